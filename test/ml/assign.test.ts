import { describe, it, expect } from 'vitest';
import { assign, loadModel, type AssignableModel } from '../../src/ml/assign.js';
import * as db from '../../src/ml/dbscan.js';
import { MlInputError } from '../../src/ml/errors.js';
import * as gm from '../../src/ml/gmm.js';
import * as hc from '../../src/ml/hierarchical.js';
import * as km from '../../src/ml/kmeans.js';
import { createRng } from '../../src/ml/random.js';
import { makeBlobs } from './reference-data.js';

const n = 600;
const d = 2;
const { data } = makeBlobs(n, d, 3, { seed: 3, scale: 6 });
const rng = createRng(8);
const m = 200;
const fresh = Float64Array.from({ length: m * d }, () => rng.next() * 24 - 12);

function roundTrip<T>(json: T): AssignableModel {
  return JSON.parse(JSON.stringify(json)) as AssignableModel;
}

/** Brute-force centroid assignment with the documented confidence 1 - d1/d2. */
function expectCentroidAssignment(model: AssignableModel, centroids: Float64Array, k: number): void {
  const a = assign(model, fresh, m);
  const bad: number[] = [];
  for (let i = 0; i < m; i++) {
    const ds = Array.from({ length: k }, (_, c) =>
      Math.hypot(fresh[i * d]! - centroids[c * d]!, fresh[i * d + 1]! - centroids[c * d + 1]!),
    );
    const sorted = [...ds].sort((x, y) => x - y);
    const ok =
      a.labels[i] === ds.indexOf(sorted[0]!) &&
      Math.abs(a.distances[i]! - sorted[0]!) < 1e-12 &&
      Math.abs(a.confidence[i]! - (1 - sorted[0]! / sorted[1]!)) < 1e-12;
    if (!ok) bad.push(i);
  }
  expect(bad).toEqual([]);
}

describe('assign', () => {
  it('k-means: nearest centroid, from JSON or a tagged fitted model', () => {
    const model = km.kmeans(data, n, d, 3);
    expectCentroidAssignment(roundTrip(km.toJSON(model)), model.centroids, 3);
    expectCentroidAssignment({ kind: 'kmeans', ...model }, model.centroids, 3);
    expect(assign({ kind: 'kmeans', ...model }, data, n).labels).toEqual(km.predict(model, data, n).labels);
    // On a centroid the confidence is 1; halfway between two it is 0.
    const c = model.centroids;
    const probe = Float64Array.from([c[0]!, c[1]!, (c[0]! + c[2]!) / 2, (c[1]! + c[3]!) / 2]);
    const a = assign(km.toJSON(model), probe, 2);
    expect(a.confidence[0]).toBe(1);
    expect(a.confidence[1]!).toBeLessThan(1e-9);
    const one = km.kmeans(data, n, d, 1);
    expect(Array.from(assign(km.toJSON(one), probe, 2).confidence)).toEqual([1, 1]);
  });

  it('hierarchical: nearest cluster centroid', () => {
    const model = hc.hierarchical(data, n, d, 3);
    expectCentroidAssignment(roundTrip(hc.toJSON(model)), model.centroids, 3);
    expectCentroidAssignment(model, model.centroids, 3);
  });

  it('Gaussian mixture: posterior argmax, its probability as confidence', () => {
    const model = gm.gmm(data, n, d, 3);
    const p = gm.predict(model, fresh, m);
    for (const form of [model, roundTrip(gm.toJSON(model))]) {
      const a = assign(form, fresh, m);
      expect(a.labels).toEqual(p.labels);
      expect(a.confidence).toEqual(p.confidence);
      expect(a.distances).toEqual(p.distances);
    }
  });

  it('DBSCAN: nearest core point within eps, else noise; confidence by depth', () => {
    const model = db.dbscan(data, n, d, { eps: 0.8, minPts: 5 });
    const p = db.predict(model, fresh, m);
    for (const form of [model, roundTrip(db.toJSON(model))]) {
      const a = assign(form, fresh, m);
      expect(a.labels).toEqual(p.labels);
      expect(a.distances).toEqual(p.distances);
      const bad = [...a.labels.keys()].filter((i) => {
        const dist = p.distances[i]!;
        const expected = p.labels[i]! >= 0 ? 1 - dist / model.eps : 1 - model.eps / dist;
        const c = a.confidence[i]!;
        return !(Math.abs(c - expected) < 1e-12 && c >= 0 && c <= 1);
      });
      expect(bad).toEqual([]);
    }
    expect(new Set(assign(model, fresh, m).labels).has(-1)).toBe(true);
    // Training core points get their own cluster at distance 0, confidence 1.
    const core = model.isCore.indexOf(1);
    const a = assign(model, data.subarray(core * d, core * d + d), 1);
    expect([a.labels[0], a.distances[0], a.confidence[0]]).toEqual([model.labels[core], 0, 1]);
  });

  it('DBSCAN without core points calls everything noise with confidence 1', () => {
    const model = db.dbscan(Float64Array.from([0, 10, 20]), 3, 1, { eps: 1, minPts: 2 });
    const a = assign(db.toJSON(model), Float64Array.from([0, 5]), 2);
    expect(Array.from(a.labels)).toEqual([-1, -1]);
    expect(Array.from(a.confidence)).toEqual([1, 1]);
    expect(Array.from(a.distances)).toEqual([Infinity, Infinity]);
  });

  it('rejects unknown kinds, malformed models and rows of the wrong width', () => {
    expect(() => assign({ kind: 'pca' } as unknown as AssignableModel, fresh, m)).toThrow(/kind "pca"/);
    expect(() => loadModel(null)).toThrow(MlInputError);
    expect(() => loadModel({ kind: 'kmeans', version: 1, k: 2, d: 2, centroids: [1, 2, 3] })).toThrow(MlInputError);
    expect(() => loadModel({ kind: 'gmm', k: 1 })).toThrow(MlInputError);
    const model = km.toJSON(km.kmeans(data, n, d, 3));
    expect(() => assign(model, fresh, m + 1)).toThrow(MlInputError);
  });
});
