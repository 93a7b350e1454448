import { describe, it, expect } from 'vitest';
import { silhouette, silhouetteMany } from '../../src/ml/metrics.js';
import { createRng } from '../../src/ml/random.js';
import { makeBlobs } from './reference-data.js';

describe('silhouetteMany', () => {
  const n = 700;
  const d = 4;
  const { data, labels: truth } = makeBlobs(n, d, 5, { seed: 4, scale: 4 });
  const rng = createRng(9);
  const random = Int32Array.from({ length: n }, () => rng.int(3));
  // gaps and large values in the labels; a cluster of one row
  const odd = Int32Array.from(truth, (v, i) => (i === 17 ? 99 : v * 10 + 1000));
  // noise (-1) leaves rows out
  const noisy = Int32Array.from(truth, (v, i) => (i % 7 === 0 ? -1 : v));

  it('equals silhouette of each labelling, on the rows it keeps', () => {
    const got = silhouetteMany(data, n, d, [truth, random, odd, noisy]);
    const keep = Array.from({ length: n }, (_, i) => i).filter((i) => noisy[i]! >= 0);
    const sub = new Float64Array(keep.length * d);
    keep.forEach((i, p) => sub.set(data.subarray(i * d, i * d + d), p * d));
    const want = [
      silhouette(data, n, d, truth, { sampleSize: Infinity }),
      silhouette(data, n, d, random, { sampleSize: Infinity }),
      silhouette(data, n, d, odd, { sampleSize: Infinity }),
      silhouette(sub, keep.length, d, Int32Array.from(keep, (i) => noisy[i]!), { sampleSize: Infinity }),
    ];
    expect(want[0]).toBeGreaterThan(0.5);
    expect(Math.abs(want[1]!)).toBeLessThan(0.1);
    got.forEach((v, l) => expect(Math.abs(v - want[l]!)).toBeLessThanOrEqual(1e-12 * Math.abs(want[l]!)));
  });

  it('is NaN for a labelling with one cluster or every row alone, and checks its input', () => {
    const one = new Int32Array(n);
    const alone = Int32Array.from({ length: n }, (_, i) => i);
    const [a, b, c] = silhouetteMany(data, n, d, [one, alone, truth]);
    expect(a).toBeNaN();
    expect(b).toBeNaN();
    expect(c).toBeGreaterThan(0.5);
    expect(() => silhouetteMany(data, n, d, [truth.subarray(1)])).toThrow(/labelling 0/);
  });
});
