import { describe, it, expect } from 'vitest';
import { PCA as MlPCA } from 'ml-pca';
import { MlInputError } from '../../src/ml/errors.js';
import { fromJSON, inverseTransform, pca, toJSON, transform } from '../../src/ml/pca.js';
import { createRng } from '../../src/ml/random.js';
import { loadReference } from './reference-data.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tol);
}

/** Correlated Gaussian data: x = z·A + offset, with distinct variances per axis. */
function correlated(n: number, d: number, seed: number, offset = 0): Float64Array {
  const rng = createRng(seed);
  const a = Array.from({ length: d * d }, () => rng.normal());
  const x = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) z[t] = rng.normal() * (d - t);
    for (let t = 0; t < d; t++) {
      let s = offset;
      for (let u = 0; u < d; u++) s += z[u]! * a[u * d + t]!;
      x[i * d + t] = s;
    }
  }
  return x;
}

/** ml-pca (SVD of the centred data) as the reference, with scikit-learn's sign rule applied. */
function mlPcaReference(x: Float64Array, n: number, d: number): { components: number[][]; variances: number[] } {
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, i * d + d)));
  const ref = new MlPCA(rows, { method: 'SVD', center: true, scale: false });
  const v = ref.getEigenvectors();
  const components = ref.getEigenvalues().map((_, j) => {
    const col = v.getColumn(j);
    const big = col.reduce((m, c) => (Math.abs(c) > Math.abs(m) ? c : m), 0);
    return col.map((c) => (big < 0 ? -c : c));
  });
  return { components, variances: ref.getEigenvalues() };
}

describe('PCA on iris against scikit-learn', () => {
  const iris = loadReference('iris');

  it('explained_variance_ratio_ is [0.92461872, 0.05306648, 0.01710261, 0.00521218]', () => {
    const model = pca(iris.data, iris.n, iris.d, { nComponents: 4 });
    expectClose(model.explainedVarianceRatio, [0.92461872, 0.05306648, 0.01710261, 0.00521218], 1e-6);
    // explained_variance_ (n - 1 denominator), from numpy: eigvalsh(cov(X.T)).
    expectClose(model.explainedVariance, [4.22824171, 0.24267075, 0.0782095, 0.02383509], 1e-6);
    const sum = model.explainedVarianceRatio.reduce((a, v) => a + v, 0);
    expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
  });

  it('keeps 1 component for 90% and 2 for 95%, as scikit-learn does', () => {
    expect(pca(iris.data, iris.n, iris.d).k).toBe(1);
    expect(pca(iris.data, iris.n, iris.d, { explainedVariance: 0.95 }).k).toBe(2);
    expect(pca(iris.data, iris.n, iris.d, { explainedVariance: 1 }).k).toBe(4);
  });

  it('first axis is scikit-learn components_[0] with the largest loading positive', () => {
    const model = pca(iris.data, iris.n, iris.d);
    expectClose(model.components, [0.36138659, -0.08452251, 0.85667061, 0.3582892], 1e-7);
  });
});

describe('PCA against ml-pca', () => {
  for (const [n, d, seed] of [
    [500, 6, 1],
    [2000, 12, 2],
    [40, 5, 3],
  ] as const) {
    it(`agrees on ${n} x ${d}: components up to sign to 1e-8, variances to 1e-10`, () => {
      const x = correlated(n, d, seed);
      const ours = pca(x, n, d, { nComponents: d });
      const ref = mlPcaReference(x, n, d);
      for (let j = 0; j < d; j++) {
        const row = ours.components.subarray(j * d, j * d + d);
        const refRow = ref.components[j]!;
        const sign = Math.sign(row.reduce((s, v, t) => s + v * refRow[t]!, 0));
        expectClose(row.map((v) => v * sign), refRow, 1e-8);
        // Same sign rule on both sides, so the signs agree too.
        expect(sign).toBe(1);
        expect(Math.abs(ours.explainedVariance[j]! - ref.variances[j]!)).toBeLessThanOrEqual(1e-10 * ref.variances[0]!);
      }
    });
  }

  it('keeps its accuracy when the mean dwarfs the spread', () => {
    const n = 3000;
    const d = 4;
    const plain = pca(correlated(n, d, 9), n, d, { nComponents: d });
    const shifted = pca(correlated(n, d, 9, 1e8), n, d, { nComponents: d });
    for (let j = 0; j < d; j++) {
      const rel = Math.abs(shifted.explainedVariance[j]! - plain.explainedVariance[j]!) / plain.explainedVariance[0]!;
      expect(rel).toBeLessThan(1e-7);
    }
  });
});

describe('PCA transform', () => {
  const n = 300;
  const d = 5;
  const x = correlated(n, d, 4);

  it('projects centred rows on the components; all components reconstruct the data', () => {
    const model = pca(x, n, d, { nComponents: d });
    const p = transform(model, x, n);
    expect(p).toHaveLength(n * d);
    for (const i of [0, 17, 299]) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (x[i * d + t]! - model.mean[t]!) * model.components[j * d + t]!;
        expect(Math.abs(p[i * d + j]! - s)).toBeLessThan(1e-9);
      }
    }
    // Projected columns are uncorrelated with the explained variances.
    for (let j = 0; j < d; j++) {
      let ss = 0;
      for (let i = 0; i < n; i++) ss += p[i * d + j]! ** 2;
      expect(Math.abs(ss / (n - 1) - model.explainedVariance[j]!)).toBeLessThan(1e-9 * model.explainedVariance[0]!);
    }
    expectClose(inverseTransform(model, p, n), x, 1e-9);
  });

  it('components are orthonormal', () => {
    const model = pca(x, n, d, { nComponents: d });
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += model.components[a * d + t]! * model.components[b * d + t]!;
        expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('is deterministic and survives a JSON round trip', () => {
    const model = pca(x, n, d, { nComponents: 2 });
    expect(pca(x, n, d, { nComponents: 2 })).toEqual(model);
    const back = fromJSON(JSON.parse(JSON.stringify(toJSON(model))));
    expect(back).toEqual(model);
    expect(transform(back, x, n)).toEqual(transform(model, x, n));
  });
});

describe('PCA input checks', () => {
  const x = correlated(10, 3, 1);

  it('rejects bad data, too few rows and bad options', () => {
    expect(() => pca(x, 10, 4)).toThrow(MlInputError);
    expect(() => pca(Float64Array.from([1, NaN, 2, 3]), 2, 2)).toThrow(/row 0, column 1/);
    expect(() => pca(x.subarray(0, 3), 1, 3)).toThrow(/at least 2 rows/);
    expect(() => pca(x, 10, 3, { nComponents: 4 })).toThrow(MlInputError);
    expect(() => pca(x, 10, 3, { nComponents: 0 })).toThrow(MlInputError);
    expect(() => pca(x, 10, 3, { explainedVariance: 0 })).toThrow(MlInputError);
    expect(() => pca(x, 10, 3, { explainedVariance: 1.5 })).toThrow(MlInputError);
  });

  it('caps components at n when n < d', () => {
    const wide = correlated(3, 6, 2);
    expect(pca(wide, 3, 6, { explainedVariance: 1 }).k).toBe(3);
    expect(() => pca(wide, 3, 6, { nComponents: 4 })).toThrow(MlInputError);
  });

  it('rejects transform input of the wrong width and malformed JSON', () => {
    const model = pca(x, 10, 3);
    expect(() => transform(model, x, 15)).toThrow(MlInputError);
    expect(() => fromJSON({ kind: 'kmeans' })).toThrow(/expected "pca"/);
    expect(() => fromJSON({ ...toJSON(model), components: ['a'] })).toThrow(MlInputError);
    expect(() => fromJSON({ ...toJSON(model), k: 3 })).toThrow(MlInputError);
  });
});
