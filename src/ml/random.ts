/**
 * Seeded randomness for `src/ml`. Everything random in the numeric core takes
 * an `Rng` built here so a run can be replayed bit for bit from its seed;
 * `Math.random` is never used.
 *
 * The generator is xoshiro128** (Blackman & Vigna): 32-bit integer ops only, so
 * it is fast without BigInt, and its 2^128 period is far beyond what k-means
 * restarts or silhouette sampling will draw.
 */
import { MlInputError } from './errors.js';

export interface Rng {
  /** Uniform in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform integer in [0, n); `n` a positive integer. */
  int(n: number): number;
  /** Standard normal (mean 0, variance 1). */
  normal(): number;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** `seed` is any safe integer; different seeds give unrelated streams. */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new MlInputError(`seed must be a safe integer, got ${String(seed)}`);
  }
  // Both halves of the seed feed the state so seeds beyond 2^32 stay distinct.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  const mixLo = splitmix32(lo);
  const mixHi = splitmix32(hi ^ 0x5bd1e995);
  let s0 = mixLo() ^ mixHi();
  let s1 = mixLo() ^ mixHi();
  let s2 = mixLo() ^ mixHi();
  let s3 = mixLo() ^ mixHi();
  // xoshiro's one forbidden state.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  const next = (): number => {
    // 27 + 26 bits: a 32-bit draw alone would leave gaps a weighted pick over
    // millions of rows could notice.
    const a = nextU32() >>> 5;
    const b = nextU32() >>> 6;
    return (a * 67108864 + b) / TWO_POW_53;
  };

  let spare = 0;
  let hasSpare = false;

  return {
    next,
    int(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
        throw new MlInputError(`rng.int(n) needs an integer n in [1, 2^32], got ${String(n)}`);
      }
      // Bias is at most n / 2^53: invisible next to any sampling error.
      return Math.floor(next() * n);
    },
    normal(): number {
      if (hasSpare) {
        hasSpare = false;
        return spare;
      }
      // Marsaglia's polar method: no trig, and the pair's second half is kept.
      let u: number;
      let v: number;
      let s: number;
      do {
        u = 2 * next() - 1;
        v = 2 * next() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      spare = v * f;
      hasSpare = true;
      return u * f;
    },
  };
}

/**
 * `m` distinct indices drawn uniformly from [0, n), in no particular order.
 * Every m-subset is equally likely.
 */
export function sampleIndices(n: number, m: number, rng: Rng): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new MlInputError(`sampleIndices: n must be an integer in [0, 2^31), got ${String(n)}`);
  }
  if (!Number.isInteger(m) || m < 0 || m > n) {
    throw new MlInputError(`sampleIndices: m must be an integer in [0, ${n}], got ${String(m)}`);
  }
  const out = new Int32Array(m);
  if (m * 4 >= n) {
    // Dense case: a partial Fisher-Yates over all n is cheaper than hashing.
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + rng.int(n - i);
      const t = pool[j]!;
      pool[j] = pool[i]!;
      pool[i] = t;
      out[i] = t;
    }
    return out;
  }
  // Sparse case: Floyd's algorithm needs O(m) memory, not O(n).
  const seen = new Set<number>();
  let w = 0;
  for (let j = n - m; j < n; j++) {
    const t = rng.int(j + 1);
    const pick = seen.has(t) ? j : t;
    seen.add(pick);
    out[w++] = pick;
  }
  return out;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
}
