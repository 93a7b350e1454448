import { describe, it, expect } from 'vitest';
import { Matrix, determinant } from 'ml-matrix';
import { MlInputError } from '../../src/ml/errors.js';
import {
  aic,
  bic,
  fromJSON,
  gmm,
  nParameters,
  predict,
  predictProba,
  score,
  toJSON,
  type CovarianceType,
} from '../../src/ml/gmm.js';
import { adjustedRandIndex } from '../../src/ml/metrics.js';
import { createRng } from '../../src/ml/random.js';
import { loadReference, makeBlobs } from './reference-data.js';

const types: CovarianceType[] = ['full', 'diag'];

describe('Gaussian mixture on well-separated blobs', () => {
  const n = 3000;
  const d = 3;
  const k = 4;
  const { data, labels: truth } = makeBlobs(n, d, k, { seed: 31 });

  for (const covarianceType of types) {
    it(`${covarianceType}: recovers the partition and the means`, () => {
      const model = gmm(data, n, d, k, { covarianceType });
      expect(adjustedRandIndex(model.labels, truth)).toBe(1);
      expect(model.converged).toBe(true);
      // makeBlobs centres: +10 on axis c for c < d, -10 on axis c - d after.
      for (let j = 0; j < k; j++) {
        const members = [...model.labels.keys()].filter((i) => model.labels[i] === j);
        const c = truth[members[0]!]!;
        for (let t = 0; t < d; t++) {
          const expected = t === c % d ? (c < d ? 10 : -10) : 0;
          expect(Math.abs(model.means[j * d + t]! - expected)).toBeLessThan(0.15);
        }
        expect(Math.abs(model.weights[j]! - members.length / n)).toBeLessThan(1e-6);
      }
      // Posteriors are ~0/1 here, so the parameters are each blob's sample
      // mean and covariance (n denominator) plus regCovar.
      for (let j = 0; j < k; j++) {
        const members = [...model.labels.keys()].filter((i) => model.labels[i] === j);
        const mean = Array.from({ length: d }, (_, t) => members.reduce((s, i) => s + data[i * d + t]!, 0) / members.length);
        for (let a = 0; a < d; a++) {
          expect(Math.abs(model.means[j * d + a]! - mean[a]!)).toBeLessThan(1e-6);
          for (let b = 0; b < d; b++) {
            if (covarianceType === 'diag' && a !== b) continue;
            const c =
              members.reduce((s, i) => s + (data[i * d + a]! - mean[a]!) * (data[i * d + b]! - mean[b]!), 0) / members.length +
              (a === b ? 1e-6 : 0);
            const got = covarianceType === 'full' ? model.covariances[j * d * d + a * d + b]! : model.covariances[j * d + a]!;
            expect(Math.abs(got - c)).toBeLessThan(1e-6);
          }
        }
      }
    });
  }

  it('posteriors sum to 1, labels are their argmax and confidence their max', () => {
    const model = gmm(data, n, d, k);
    const proba = predictProba(model, data, n);
    const p = predict(model, data, n);
    expect(Array.from(p.labels)).toEqual(Array.from(model.labels));
    const bad: number[] = [];
    for (let i = 0; i < n; i++) {
      const row = Array.from(proba.subarray(i * k, i * k + k));
      let s = 0;
      for (let t = 0; t < d; t++) s += (data[i * d + t]! - model.means[p.labels[i]! * d + t]!) ** 2;
      const ok =
        Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-12 &&
        p.confidence[i] === Math.max(...row) &&
        row.indexOf(p.confidence[i]!) === p.labels[i] &&
        Math.abs(p.distances[i]! - Math.sqrt(s)) < 1e-12;
      if (!ok) bad.push(i);
    }
    expect(bad).toEqual([]);
  });

  it('is deterministic per seed and survives a JSON round trip', () => {
    const model = gmm(data, n, d, k, { seed: 3 });
    expect(gmm(data, n, d, k, { seed: 3 })).toEqual(model);
    const back = fromJSON(JSON.parse(JSON.stringify(toJSON(model))));
    expect(predictProba(back, data, n)).toEqual(predictProba(model, data, n));
    expect(score(back, data, n)).toBe(score(model, data, n));
  });
});

describe('EM', () => {
  const n = 2000;
  const d = 2;
  // Overlapping blobs: many iterations before convergence.
  const { data } = makeBlobs(n, d, 4, { seed: 5, scale: 1.5 });

  for (const covarianceType of types) {
    it(`${covarianceType}: the log-likelihood never decreases`, () => {
      const model = gmm(data, n, d, 4, { covarianceType, tol: 0, maxIter: 60 });
      const lb = model.lowerBounds;
      expect(lb.length).toBeGreaterThan(10);
      for (let i = 1; i < lb.length; i++) expect(lb[i]!).toBeGreaterThanOrEqual(lb[i - 1]! - 1e-12);
      // The returned parameters come after the last step, so they score at least as well.
      expect(score(model, data, n)).toBeGreaterThanOrEqual(lb[lb.length - 1]! - 1e-12);
      expect(model.lowerBound).toBe(lb[lb.length - 1]);
      expect(model.iterations).toBe(60);
      expect(model.converged).toBe(false);
    });
  }

  it('nInit keeps the run with the highest lower bound', () => {
    const one = gmm(data, n, d, 4, { nInit: 1, seed: 9 });
    const three = gmm(data, n, d, 4, { nInit: 3, seed: 9 });
    expect(three.lowerBound).toBeGreaterThanOrEqual(one.lowerBound);
  });

  it('k = 1 is the maximum-likelihood Gaussian: the score is -(d·ln 2π + ln det S + d)/2', () => {
    const rng = createRng(2);
    const m = 5000;
    const dim = 3;
    const x = new Float64Array(m * dim);
    for (let i = 0; i < m; i++) {
      const a = rng.normal();
      const b = rng.normal();
      x[i * 3] = 2 * a + 1;
      x[i * 3 + 1] = a - b;
      x[i * 3 + 2] = 0.5 * b + rng.normal();
    }
    // Sample covariance, n denominator.
    const mean = [0, 1, 2].map((t) => x.filter((_, i) => i % 3 === t).reduce((s, v) => s + v, 0) / m);
    const s = new Matrix(3, 3);
    for (let i = 0; i < m; i++) {
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) s.set(a, b, s.get(a, b) + ((x[i * 3 + a]! - mean[a]!) * (x[i * 3 + b]! - mean[b]!)) / m);
      }
    }
    const full = gmm(x, m, dim, 1, { regCovar: 0 });
    const expected = -0.5 * (dim * Math.log(2 * Math.PI) + Math.log(determinant(s)) + dim);
    expect(Math.abs(score(full, x, m) - expected)).toBeLessThan(1e-9);
    // Diagonal: the determinant is the product of the variances.
    const diag = gmm(x, m, dim, 1, { covarianceType: 'diag', regCovar: 0 });
    const prod = s.get(0, 0) * s.get(1, 1) * s.get(2, 2);
    expect(Math.abs(score(diag, x, m) - -0.5 * (dim * Math.log(2 * Math.PI) + Math.log(prod) + dim))).toBeLessThan(1e-9);
  });
});

describe('Gaussian mixture on iris', () => {
  const iris = loadReference('iris');

  it('full covariance, k = 3: ARI against the true labels > 0.85 (scikit-learn ~0.90)', () => {
    const model = gmm(iris.data, iris.n, iris.d, 3);
    expect(adjustedRandIndex(iris.labels, model.labels)).toBeGreaterThan(0.85);
    expect(model.converged).toBe(true);
    for (const seed of [0, 1, 2]) {
      expect(adjustedRandIndex(iris.labels, gmm(iris.data, iris.n, iris.d, 3, { seed }).labels)).toBeGreaterThan(0.85);
    }
  });

  it('BIC and AIC agree with their definitions', () => {
    const model = gmm(iris.data, iris.n, iris.d, 3);
    expect(nParameters(model)).toBe(3 * 10 + 3 * 4 + 2);
    expect(nParameters({ ...model, covarianceType: 'diag' })).toBe(3 * 4 + 3 * 4 + 2);
    const ll = score(model, iris.data, iris.n) * iris.n;
    expect(Math.abs(model.logLikelihood - ll)).toBeLessThan(1e-9);
    expect(Math.abs(bic(model, iris.data, iris.n) - (-2 * ll + 44 * Math.log(150)))).toBeLessThan(1e-9);
    expect(Math.abs(aic(model, iris.data, iris.n) - (-2 * ll + 88))).toBeLessThan(1e-9);
    expect(Math.abs(model.bic - bic(model, iris.data, iris.n))).toBeLessThan(1e-9);
    expect(Math.abs(model.aic - aic(model, iris.data, iris.n))).toBeLessThan(1e-9);
  });
});

describe('choosing k', () => {
  it('BIC is lowest at k = 3 on three clear blobs (k = 2..6)', () => {
    const n = 1500;
    const { data } = makeBlobs(n, 2, 3, { seed: 17 });
    for (const covarianceType of types) {
      const scores = [2, 3, 4, 5, 6].map((k) => gmm(data, n, 2, k, { covarianceType }).bic);
      expect(scores.indexOf(Math.min(...scores)) + 2).toBe(3);
    }
  });
});

describe('Gaussian mixture input checks', () => {
  const { data } = makeBlobs(50, 2, 2, { seed: 1 });

  it('rejects bad k and options', () => {
    expect(() => gmm(data, 50, 2, 0)).toThrow(MlInputError);
    expect(() => gmm(data, 50, 2, 51)).toThrow(MlInputError);
    expect(() => gmm(data, 50, 2, 2, { covarianceType: 'spherical' as CovarianceType })).toThrow(/covarianceType/);
    expect(() => gmm(data, 50, 2, 2, { regCovar: -1 })).toThrow(MlInputError);
    expect(() => gmm(data, 50, 2, 2, { nInit: 0 })).toThrow(MlInputError);
    expect(() => gmm(data, 50, 2, 2, { maxIter: 1.5 })).toThrow(MlInputError);
  });

  it('explains a singular covariance instead of returning NaN', () => {
    // A component on identical rows has zero covariance without regCovar.
    const x = Float64Array.from([0, 0, 0, 0, 0, 0, 5, 5, 6, 5, 5, 6]);
    expect(() => gmm(x, 6, 2, 2, { regCovar: 0 })).toThrow(/ill-defined covariance.*regCovar/);
    expect(gmm(x, 6, 2, 2).labels).toHaveLength(6);
  });

  it('rejects malformed JSON and models', () => {
    const model = gmm(data, 50, 2, 2);
    expect(() => fromJSON({ ...toJSON(model), kind: 'kmeans' })).toThrow(/expected "gmm"/);
    expect(() => fromJSON({ ...toJSON(model), weights: [0.2, 0.2] })).toThrow(/sum to 1/);
    expect(() => fromJSON({ ...toJSON(model), covariances: [1, 0, 0, -1, 1, 0, 0, 1] })).toThrow(/ill-defined/);
    expect(() => predict(model, data, 25)).toThrow(MlInputError);
  });
});
