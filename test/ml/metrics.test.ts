import { describe, it, expect } from 'vitest';
import { MlInputError } from '../../src/ml/errors.js';
import {
  adjustedRandIndex,
  calinskiHarabasz,
  daviesBouldin,
  randIndex,
  silhouette,
  silhouetteSamples,
} from '../../src/ml/metrics.js';
import { loadReference, makeBlobs } from './reference-data.js';

function expectRel(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

/** Rows of equal length flattened into the row-major layout src/ml takes. */
function matrix(rows: number[][]): [Float64Array, number, number] {
  const d = rows[0]!.length;
  return [Float64Array.from(rows.flat()), rows.length, d];
}

function repeat<T>(xs: T[], times: number): T[] {
  return Array.from({ length: times }, () => xs).flat();
}

const blockLabels = [...repeat([0], 10), ...repeat([1], 10), ...repeat([2], 10), ...repeat([3], 10)];
const fourBlocks = matrix([
  ...repeat([[0, 0], [1, 1]], 5),
  ...repeat([[3, 3], [4, 4]], 5),
  ...repeat([[0, 4], [1, 3]], 5),
  ...repeat([[3, 1], [4, 0]], 5),
]);

// README table: scikit-learn 1.2.1, raw features, true class labels. The
// table rounds to 10 significant digits, so 1e-9 relative is as tight as it goes.
describe.each([
  { name: 'iris' as const, sil: 0.5034774407, db: 0.7513707095, ch: 487.3308763749 },
  { name: 'breast_cancer' as const, sil: 0.5136967682, db: 0.7206452123, ch: 633.6311042653 },
])('$name with true labels matches scikit-learn', ({ name, sil, db, ch }) => {
  const ref = loadReference(name);

  it('silhouette', () => {
    expectRel(silhouette(ref.data, ref.n, ref.d, ref.labels), sil, 1e-9);
  });
  it('Davies-Bouldin', () => {
    expectRel(daviesBouldin(ref.data, ref.n, ref.d, ref.labels), db, 1e-9);
  });
  it('Calinski-Harabasz', () => {
    expectRel(calinskiHarabasz(ref.data, ref.n, ref.d, ref.labels), ch, 1e-9);
  });
  it('silhouetteSamples averages to silhouette', () => {
    const s = silhouetteSamples(ref.data, ref.n, ref.d, ref.labels);
    expect(s).toHaveLength(ref.n);
    expectRel(s.reduce((acc, v) => acc + v, 0) / ref.n, sil, 1e-9);
  });
});

describe('scikit-learn fixture cases', () => {
  it('Calinski-Harabasz of four blocks is 108', () => {
    expectRel(calinskiHarabasz(...fourBlocks, blockLabels), 108, 1e-12);
  });

  it('Calinski-Harabasz is 1 when all points are identical', () => {
    const [x, n, d] = matrix(repeat([[1, 1]], 10));
    expect(calinskiHarabasz(x, n, d, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])).toBe(1);
  });

  it('Calinski-Harabasz is 0 when all cluster means are equal', () => {
    const [x, n, d] = matrix(repeat([[-1, -1], [1, 1]], 10));
    expect(calinskiHarabasz(x, n, d, [...repeat([0], 10), ...repeat([1], 10)])).toBe(0);
  });

  it('Davies-Bouldin of four blocks is 2*sqrt(0.5)/3', () => {
    expectRel(daviesBouldin(...fourBlocks, blockLabels), (2 * Math.sqrt(0.5)) / 3, 1e-12);
    expectRel(daviesBouldin(...fourBlocks, blockLabels), 0.4714045208, 1e-9);
  });

  it('Davies-Bouldin with single-sample clusters is (5/4)/3', () => {
    const [x, n, d] = matrix([[0, 0], [2, 2], [3, 3], [5, 5]]);
    expectRel(daviesBouldin(x, n, d, [0, 0, 1, 2]), 5 / 4 / 3, 1e-12);
  });

  it('Davies-Bouldin is 0 for identical points and for equal cluster means', () => {
    const [same, n1, d1] = matrix(repeat([[1, 1]], 10));
    expect(daviesBouldin(same, n1, d1, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])).toBe(0);
    const [x, n, d] = matrix(repeat([[-1, -1], [1, 1]], 10));
    expect(daviesBouldin(x, n, d, [...repeat([0], 10), ...repeat([1], 10)])).toBe(0);
  });

  it('silhouette per sample is [0, .5, .5, 0, 1, 1]; a lone sample scores 0', () => {
    const x = Float64Array.from([0, 1, 1, 2, 3, 3]);
    const labels = [0, 1, 1, 1, 2, 2];
    expect(Array.from(silhouetteSamples(x, 6, 1, labels))).toEqual([0, 0.5, 0.5, 0, 1, 1]);
    expect(silhouette(x, 6, 1, labels)).toBe(0.5);
  });

  it('adjusted Rand index and Rand index', () => {
    const truth = [0, 0, 0, 1, 1, 1];
    const pred = [0, 1, 0, 1, 2, 2];
    expectRel(adjustedRandIndex(truth, pred), 0.2424242424, 1e-9);
    expectRel(adjustedRandIndex(truth, pred), 8 / 33, 1e-15);
    expectRel(randIndex(truth, pred), 0.6666666667, 1e-9);
    expectRel(randIndex(truth, pred), 2 / 3, 1e-15);
  });
});

describe('labels', () => {
  const ref = loadReference('iris');

  it('are relabelled: gaps, offsets and arrays give the same scores', () => {
    const shifted = Array.from(ref.labels, (v) => v * 2 + 10);
    const huge = Int32Array.from(ref.labels, (v) => v * 1_000_000_000 - 7);
    const base = silhouette(ref.data, ref.n, ref.d, ref.labels);
    expect(silhouette(ref.data, ref.n, ref.d, shifted)).toBe(base);
    expect(silhouette(ref.data, ref.n, ref.d, huge)).toBe(base);
    expect(daviesBouldin(ref.data, ref.n, ref.d, shifted)).toBe(daviesBouldin(ref.data, ref.n, ref.d, ref.labels));
    expect(calinskiHarabasz(ref.data, ref.n, ref.d, huge)).toBe(calinskiHarabasz(ref.data, ref.n, ref.d, ref.labels));
  });

  it('must number between 2 and n - 1', () => {
    const ones = new Int32Array(ref.n);
    const all = Int32Array.from({ length: ref.n }, (_, i) => i);
    for (const score of [silhouette, silhouetteSamples, daviesBouldin, calinskiHarabasz]) {
      expect(() => score(ref.data, ref.n, ref.d, ones)).toThrow(/number of labels is 1/);
      expect(() => score(ref.data, ref.n, ref.d, all)).toThrow(MlInputError);
    }
  });

  it('must be integers, one per row', () => {
    expect(() => silhouette(ref.data, ref.n, ref.d, ref.labels.subarray(1))).toThrow(MlInputError);
    const frac = Array.from(ref.labels, (v) => v + 0.5);
    expect(() => calinskiHarabasz(ref.data, ref.n, ref.d, frac)).toThrow(/labels\[0\] must be an integer/);
  });
});

describe('input checks', () => {
  it('reject NaN naming its row and column', () => {
    const x = Float64Array.from([0, 0, 1, 1, 2, NaN, 3, 3]);
    expect(() => silhouette(x, 4, 2, [0, 0, 1, 1])).toThrow(/row 2, column 1/);
    expect(() => daviesBouldin(x, 4, 2, [0, 0, 1, 1])).toThrow(MlInputError);
  });

  it('reject a data length that is not n*d', () => {
    const x = Float64Array.from([0, 0, 1, 1, 2]);
    expect(() => calinskiHarabasz(x, 3, 2, [0, 1, 1])).toThrow(MlInputError);
  });

  it('reject label arrays of different lengths for the Rand indices', () => {
    expect(() => adjustedRandIndex([0, 1], [0, 1, 1])).toThrow(MlInputError);
    expect(() => randIndex([0, 1], [0])).toThrow(MlInputError);
  });
});

describe('Rand indices', () => {
  it('are 1 for identical partitions up to renaming', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], [5, 5, 3, 3, 9])).toBe(1);
    expect(randIndex(Int32Array.from([0, 0, 1, 1, 2]), [5, 5, 3, 3, 9])).toBe(1);
  });

  it('follow scikit-learn on degenerate partitions', () => {
    expect(adjustedRandIndex([0, 0, 0, 0], [1, 1, 1, 1])).toBe(1);
    expect(adjustedRandIndex([0, 1, 2, 3], [0, 1, 2, 3])).toBe(1);
    expect(adjustedRandIndex([], [])).toBe(1);
    expect(randIndex([], [])).toBe(1);
    // One cluster against singletons: no agreeing "together" pair, all disagree.
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(randIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
  });

  it('are symmetric and near 0 for unrelated partitions', () => {
    const a = makeBlobs(20000, 2, 7, { seed: 1 }).labels;
    const b = makeBlobs(20000, 2, 5, { seed: 2 }).labels;
    expect(adjustedRandIndex(a, b)).toBe(adjustedRandIndex(b, a));
    expect(Math.abs(adjustedRandIndex(a, b))).toBeLessThan(0.01);
  });

  it('handle many distinct labels without a dense table', () => {
    const n = 5000;
    const a = Int32Array.from({ length: n }, (_, i) => i);
    const b = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 2));
    // a: all singletons; b: pairs -> n/2 pairs together in b only.
    const pairs = n * (n - 1);
    expectRel(randIndex(a, b), (pairs - n) / pairs, 1e-15);
    expect(adjustedRandIndex(a, b)).toBe(0);
  });
});

describe('sampled silhouette', () => {
  const n = 3000;
  const d = 3;
  const blobs = makeBlobs(n, d, 4, { seed: 7, scale: 3 });

  it('is exact when n <= sampleSize', () => {
    const exact = silhouette(blobs.data, n, d, blobs.labels, { sampleSize: Infinity });
    expect(silhouette(blobs.data, n, d, blobs.labels, { sampleSize: n })).toBe(exact);
    const mean = silhouetteSamples(blobs.data, n, d, blobs.labels).reduce((a, v) => a + v, 0) / n;
    expectRel(exact, mean, 1e-12);
  });

  it('is deterministic per seed and close to the exact value', () => {
    const exact = silhouette(blobs.data, n, d, blobs.labels);
    const a = silhouette(blobs.data, n, d, blobs.labels, { sampleSize: 500, seed: 1 });
    const again = silhouette(blobs.data, n, d, blobs.labels, { sampleSize: 500, seed: 1 });
    const other = silhouette(blobs.data, n, d, blobs.labels, { sampleSize: 500, seed: 2 });
    expect(again).toBe(a);
    expect(other).not.toBe(a);
    expect(Math.abs(a - exact)).toBeLessThan(0.02);
    expect(Math.abs(other - exact)).toBeLessThan(0.02);
  });

  it('rejects a sampleSize that is not a positive integer', () => {
    expect(() => silhouette(blobs.data, n, d, blobs.labels, { sampleSize: 0 })).toThrow(MlInputError);
    expect(() => silhouette(blobs.data, n, d, blobs.labels, { sampleSize: 10.5 })).toThrow(MlInputError);
  });
});

describe('silhouette scale', () => {
  it('scores are in [-1, 1] and agree with a direct O(n²) computation', () => {
    const n = 300;
    const d = 4;
    const { data, labels } = makeBlobs(n, d, 5, { seed: 3, scale: 2, spread: 1.5 });
    const got = silhouetteSamples(data, n, d, labels);
    const dist = (i: number, j: number): number => {
      let s = 0;
      for (let t = 0; t < d; t++) s += (data[i * d + t]! - data[j * d + t]!) ** 2;
      return Math.sqrt(s);
    };
    for (let i = 0; i < n; i++) {
      const sums = new Map<number, [number, number]>();
      for (let j = 0; j < n; j++) {
        const e = sums.get(labels[j]!) ?? [0, 0];
        sums.set(labels[j]!, [e[0] + dist(i, j), e[1] + 1]);
      }
      const [ownSum, ownCount] = sums.get(labels[i]!)!;
      const a = ownSum / (ownCount - 1);
      const b = Math.min(...[...sums].filter(([c]) => c !== labels[i]).map(([, [s, c]]) => s / c));
      const expected = ownCount > 1 ? (b - a) / Math.max(a, b) : 0;
      expect(Math.abs(got[i]! - expected)).toBeLessThan(1e-12);
      expect(Math.abs(got[i]!)).toBeLessThanOrEqual(1);
    }
  });
});
