/**
 * Test reference, not product code: the transform models saved before the prep step (src/features/prep.ts) kept:
 * median imputation, log1p where the spec says, then standardization. Such a
 * model now loads as the equivalent Prep (prepFromLegacyScaler); this stays as
 * the reference that equivalence is tested against.
 */
import type { Transform } from '../../src/features/build.js';

export interface Scaler {
  transforms: Transform[];
  medians: number[];
  mean: number[];
  std: number[];
}

function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function applyOne(v: number, t: Transform): number {
  return t === 'log1p' ? Math.log1p(Math.max(0, v)) : v;
}

export function fitScaler(raw: Float64Array, n: number, d: number, transforms: Transform[]): Scaler {
  const medians: number[] = [];
  const mean: number[] = [];
  const std: number[] = [];
  for (let j = 0; j < d; j++) {
    const present: number[] = [];
    for (let r = 0; r < n; r++) {
      const v = raw[r * d + j] as number;
      if (!Number.isNaN(v)) present.push(v);
    }
    const med = median(Float64Array.from(present));
    medians.push(med);
    const t = transforms[j] ?? 'none';
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < n; r++) {
      const v0 = raw[r * d + j] as number;
      const v = applyOne(Number.isNaN(v0) ? med : v0, t);
      s += v;
      s2 += v * v;
    }
    const m = n ? s / n : 0;
    const variance = n ? Math.max(0, s2 / n - m * m) : 0;
    mean.push(m);
    // a constant column stays 0 instead of dividing by zero
    std.push(variance > 1e-24 ? Math.sqrt(variance) : 1);
  }
  return { transforms: [...transforms], medians, mean, std };
}

export function transform(s: Scaler, raw: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const v0 = raw[r * d + j] as number;
      const v = applyOne(Number.isNaN(v0) ? (s.medians[j] as number) : v0, s.transforms[j] ?? 'none');
      out[r * d + j] = (v - (s.mean[j] as number)) / (s.std[j] as number);
    }
  }
  return out;
}
