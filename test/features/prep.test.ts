/**
 * The prep step on small data with values worked out by hand (and checked with
 * numpy: percentile 'linear', std ddof 0): imputation, missing indicator,
 * winsorizing, log1p, standard and robust scaling, one-hot with top-N and
 * "other", fitted on training rows only.
 */
import { describe, it, expect } from 'vitest';
import { applyPrep, fitPrep, prepColumns, prepFromLegacyScaler, quantileSorted } from '../../src/features/prep.js';
import { fitScaler, transform } from './legacy-scaler.js';
import { parsePrep } from '../../src/features/saved.js';
import type { CategoricalColumn, FeatureSpec, PrepOptions, Transform } from '../../src/features/build.js';
import { UserError } from '../../src/core/errors.js';

const OPTS: PrepOptions = { missingIndicatorShare: 0.05, winsorize: { lower: 0.1, upper: 0.9 }, scaling: 'standard' };

function matrix(cols: number[][], transforms: Transform[], categories: CategoricalColumn[] = [], categorical: FeatureSpec['categorical'] = []) {
  const n = cols[0]!.length;
  const d = cols.length;
  const raw = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) raw[r * d + j] = cols[j]![r]!;
  const spec: FeatureSpec = { preset: 'none', asOf: '2026-06-30', columns: cols.map((_, j) => `f${j}`), transforms, properties: [], categorical };
  return { raw, n, d, categories, spec };
}

// one missing value in ten (10% > 5%: an indicator column), one outlier (100)
const A = [1, 2, 3, 4, NaN, 100, 5, 6, 7, 8];

describe('quantileSorted', () => {
  it('interpolates linearly between order statistics', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 100];
    expect(quantileSorted(s, 0.5)).toBe(5);
    expect(quantileSorted(s, 0.1)).toBeCloseTo(1.8, 12); // position 0.8
    expect(quantileSorted(s, 0.9)).toBeCloseTo(26.4, 12); // position 7.2: 8 + 0.2 * 92
    expect(quantileSorted([3], 0.25)).toBe(3);
  });
});

describe('fitPrep / applyPrep', () => {
  it('imputes the median, adds a missing indicator, winsorizes, then standardizes', () => {
    const fm = matrix([A], ['none']);
    const p = fitPrep(fm, OPTS);
    const c = p.numeric[0]!;
    expect(c.median).toBe(5);
    expect(c.lo).toBeCloseTo(1.8, 12);
    expect(c.hi).toBeCloseTo(26.4, 12);
    expect(c.indicator).toBe(true);
    // clipped, imputed: [1.8, 2, 3, 4, 5, 26.4, 5, 6, 7, 8], mean 68.2 / 10
    expect(c.center).toBeCloseTo(6.82, 12);
    expect(c.scale).toBeCloseTo(6.804968772889414, 12);
    expect(prepColumns(p)).toEqual(['f0', 'f0_missing']);

    const X = applyPrep(p, fm);
    expect(X).toHaveLength(20);
    expect(X[5 * 2]).toBeCloseTo(2.877309309339602, 12); // 100 clipped to 26.4
    expect(X[4 * 2]).toBeCloseTo(-0.2674516314095037, 12); // missing -> 5
    expect([...Array(10).keys()].map((r) => X[r * 2 + 1])).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('applies log1p after clipping', () => {
    const p = fitPrep(matrix([A], ['log1p']), OPTS);
    expect(p.numeric[0]!.center).toBeCloseTo(1.8240602199324762, 12);
    expect(p.numeric[0]!.scale).toBeCloseTo(0.6185587285521369, 12);
    const X = applyPrep(p, matrix([[100, 5]], ['log1p']));
    expect(X[0]).toBeCloseTo(2.4031393056904475, 12);
    expect(X[2]).toBeCloseTo(-0.052219375806122396, 12);
  });

  it('robust scaling uses the median and the interquartile range', () => {
    const p = fitPrep(matrix([A], ['none']), { ...OPTS, scaling: 'robust' });
    // sorted: 1.8 2 3 4 5 5 6 7 8 26.4 -> median 5, q25 3.25, q75 6.75
    expect(p.numeric[0]!.center).toBe(5);
    expect(p.numeric[0]!.scale).toBeCloseTo(3.5, 12);
    const X = applyPrep(p, matrix([[12]], ['none']));
    expect(X[0]).toBeCloseTo((12 - 5) / 3.5, 12);
  });

  it('adds no indicator at or under the share, and winsorizing 0/1 clips nothing', () => {
    const col = Array.from({ length: 20 }, (_, i) => (i === 3 ? NaN : i)); // 1 in 20 = 5%: not above
    const p = fitPrep(matrix([col], ['none']), { ...OPTS, winsorize: { lower: 0, upper: 1 } });
    expect(p.numeric[0]!.indicator).toBe(false);
    expect(p.numeric[0]!.lo).toBeNull();
    expect(p.numeric[0]!.hi).toBeNull();
    expect(applyPrep(p, matrix([[1e9]], ['none']))[0]).toBeGreaterThan(1e7);
  });

  it('fits on the training rows only', () => {
    const col = [1, 2, 3, 4, 1000];
    const p = fitPrep(matrix([col], ['none']), OPTS, [0, 1, 2, 3]);
    expect(p.numeric[0]!.median).toBe(2.5);
    expect(p.numeric[0]!.hi).toBeCloseTo(3.7, 12); // 0.9 of [1, 2, 3, 4]: position 2.7
    // the held-out row is transformed with the training fit: clipped at 3.7
    const X = applyPrep(p, matrix([col], ['none']));
    expect(X[4]).toBeCloseTo(X[3]!, 12);
  });

  it('one-hot encodes the top values, the rest (and unseen ones) in "other", not scaled', () => {
    const dict = ['(missing)', 'lead', 'customer', 'partner', 'evangelist'];
    // lead x4, customer x3, partner x2, missing x1 on training rows 0..9; row 10 is held out
    const codes = Int32Array.from([1, 1, 1, 1, 2, 2, 2, 3, 3, 0, 4]);
    const cat: CategoricalColumn = { property: 'stage', dict, codes };
    const fm = matrix([Array.from({ length: 11 }, (_, i) => i)], ['none'], [cat], [{ property: 'stage', top: 2 }]);
    const train = [...Array(10).keys()];
    const p = fitPrep(fm, OPTS, train);
    expect(p.categorical).toEqual([{ property: 'stage', values: ['lead', 'customer'], other: true }]);
    expect(prepColumns(p)).toEqual(['f0', 'stage=lead', 'stage=customer', 'stage=other']);
    const X = applyPrep(p, fm);
    const row = (r: number): number[] => [X[r * 4 + 1]!, X[r * 4 + 2]!, X[r * 4 + 3]!];
    expect(row(0)).toEqual([1, 0, 0]);
    expect(row(4)).toEqual([0, 1, 0]);
    expect(row(7)).toEqual([0, 0, 1]);
    expect(row(9)).toEqual([0, 0, 1]); // missing is a value like any other: not in the top 2
    expect(row(10)).toEqual([0, 0, 1]); // never seen in training

    // every training value fits in the top: no "other" column, an unseen value is all zeros
    const q = fitPrep(fm, OPTS, [0, 1, 4]);
    expect(q.categorical[0]).toEqual({ property: 'stage', values: ['lead', 'customer'], other: false });
    const Y = applyPrep(q, fm);
    expect([Y[10 * 3 + 1], Y[10 * 3 + 2]]).toEqual([0, 0]);
  });

  it('ranks tied categories by value, whatever their dictionary order', () => {
    const a: CategoricalColumn = { property: 's', dict: ['(missing)', 'b', 'a'], codes: Int32Array.from([1, 2]) };
    const p = fitPrep(matrix([[1, 2]], ['none'], [a], [{ property: 's', top: 1 }]), OPTS);
    expect(p.categorical[0]!.values).toEqual(['a']);
  });
});

describe('models saved before the prep step', () => {
  it('load as the identical transform', () => {
    const raw = Float64Array.from([1, 10, NaN, 20, 3, 30, 4, NaN]);
    const transforms: Transform[] = ['log1p', 'none'];
    const scaler = fitScaler(raw, 4, 2, transforms);
    const spec: FeatureSpec = { preset: 'none', asOf: '2026-06-30', columns: ['a', 'b'], transforms, properties: ['a', 'b'] };
    const p = parsePrep(JSON.parse(JSON.stringify(scaler)), spec, 7);
    expect(p).toEqual(prepFromLegacyScaler(scaler, ['a', 'b']));
    const X = applyPrep(p, { raw, n: 4, d: 2, categories: [] });
    const old = transform(scaler, raw, 4, 2);
    for (let i = 0; i < 8; i++) expect(X[i]).toBeCloseTo(old[i]!, 14);
  });

  it('a damaged transform asks for a retrain', () => {
    const spec: FeatureSpec = { preset: 'none', asOf: '2026-06-30', columns: ['a'], transforms: ['none'], properties: ['a'] };
    expect(() => parsePrep({ medians: [0] }, spec, 3)).toThrow(UserError);
    expect(() => parsePrep({ version: 2, scaling: 'standard', numeric: [], categorical: [] }, spec, 3)).toThrow(/retrain|1 features|0 features/);
  });
});
