/**
 * Small, fast, seeded PRNG for the demo data generator.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state),
 * seeded through splitmix32 so any integer seed gives a well-mixed state.
 * Deliberately self-contained: the demo must not depend on src/ml, and the
 * output must be byte-identical for the same seed on every platform, so only
 * 32-bit integer ops and IEEE-754 doubles are used (Math.log/exp/sqrt/cos are
 * deterministic in V8 for a given Node version).
 */

const TWO_POW_32 = 4294967296;

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/** Fold any finite number (negative, > 2^32, fractional) into a 32-bit seed. */
function foldSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const whole = Math.trunc(seed);
  const lo = whole % TWO_POW_32;
  const hi = Math.trunc(whole / TWO_POW_32) % TWO_POW_32;
  let h = (lo ^ Math.imul(hi | 0, 0x27d4eb2d)) | 0;
  if (whole < 0) h ^= 0x5bd1e995;
  return h | 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** cached second Box-Muller deviate */
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    let s = foldSeed(seed);
    let v: number;
    [s, v] = splitmix32(s);
    this.a = v | 0;
    [s, v] = splitmix32(s);
    this.b = v | 0;
    [s, v] = splitmix32(s);
    this.c = v | 0;
    [, v] = splitmix32(s);
    this.d = v | 0;
    // warm up: the first outputs of sfc32 are weakly mixed
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n). n must be >= 1 and <= 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new RangeError('pick() from an empty list');
    return item;
  }

  /** Standard normal deviate (Box-Muller, polar-free form, spare cached). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const mag = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * v;
    this.spare = mag * Math.sin(angle);
    this.hasSpare = true;
    return mag * Math.cos(angle);
  }

  /** Log-normal with the given median and log-space sigma. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Poisson deviate: Knuth's method for small lambda, rounded normal approximation above 50. */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 50) {
      const x = Math.round(lambda + Math.sqrt(lambda) * this.normal());
      return x < 0 ? 0 : x;
    }
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

/** Precomputed weighted choice: O(n) scan over a tiny cumulative table. */
export class Weighted<T> {
  private readonly items: readonly T[];
  private readonly cumulative: Float64Array;

  constructor(entries: readonly (readonly [T, number])[]) {
    if (entries.length === 0) throw new RangeError('Weighted needs at least one entry');
    let total = 0;
    for (const [, w] of entries) {
      if (!(w >= 0)) throw new RangeError(`negative or NaN weight ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('weights sum to zero');
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let acc = 0;
    entries.forEach(([, w], i) => {
      acc += w / total;
      this.cumulative[i] = acc;
    });
    this.cumulative[entries.length - 1] = 1;
  }

  sample(rng: Rng): T {
    const u = rng.next();
    const cum = this.cumulative;
    const n = cum.length;
    for (let i = 0; i < n; i++) {
      if (u < (cum[i] as number)) return this.items[i] as T;
    }
    return this.items[n - 1] as T;
  }
}
