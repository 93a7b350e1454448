/**
 * Population stability index on small data, with values worked out by hand:
 * PSI = sum (a - e) * ln(a / e), an empty share counted as 0.0001.
 */
import { describe, it, expect } from 'vitest';
import { binOf, driftOf, fitDriftReference, psi } from '../../src/features/drift.js';
import { fitPrep } from '../../src/features/prep.js';
import type { CategoricalColumn, FeatureSpec } from '../../src/features/build.js';

const OPTS = { missingIndicatorShare: 0.05, winsorize: { lower: 0, upper: 1 }, scaling: 'standard' as const };

function matrix(col: number[], categories: CategoricalColumn[] = []) {
  const spec: FeatureSpec = {
    preset: 'none', asOf: '2026-06-30', columns: ['x'], transforms: ['none'], properties: ['x'],
    categorical: categories.map((c) => ({ property: c.property, top: 2 })),
  };
  return { raw: Float64Array.from(col), n: col.length, d: 1, categories, spec };
}

describe('psi', () => {
  it('matches the hand computation', () => {
    // 0.15 ln 2.5 + 0.05 ln 1.25 + 0.05 ln 1.2 + 0.15 ln 1.6
    expect(psi([0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4])).toBeCloseTo(0.22821740957339182, 12);
    expect(psi([0.5, 0.3, 0.2], [0.5, 0.3, 0.2])).toBe(0);
    // symmetric swap: 0.3 ln 2.5 twice
    expect(psi([0.5, 0.3, 0.2], [0.2, 0.3, 0.5])).toBeCloseTo(0.6 * Math.log(2.5), 12);
    expect(() => psi([1], [0.5, 0.5])).toThrow();
  });

  it('counts an empty bin as a share of 0.0001', () => {
    expect(psi([0.5, 0.5], [1, 0])).toBeCloseTo(0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 12);
  });
});

describe('binOf', () => {
  it('puts v in the first bin whose upper edge is >= v, missing values last', () => {
    const e = [3.25, 5.5, 7.75];
    expect([1, 3.25, 3.26, 5.5, 7.75, 8, 1e9].map((v) => binOf(e, v))).toEqual([0, 0, 1, 1, 2, 3, 3]);
    expect(binOf(e, NaN)).toBe(4);
    expect(binOf([], 5)).toBe(0);
  });
});

describe('fitDriftReference / driftOf', () => {
  it('quantile bins of the training rows, and the PSI of a shifted population', () => {
    const train = matrix([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ref = fitDriftReference(train, fitPrep(train, OPTS), 4);
    // quartiles of 1..10 (linear): 3.25, 5.5, 7.75 -> {1,2,3} {4,5} {6,7} {8,9,10}, none missing
    expect(ref.numeric[0]!.edges).toEqual([3.25, 5.5, 7.75]);
    expect(ref.numeric[0]!.shares).toEqual([0.3, 0.2, 0.2, 0.3, 0]);
    expect(driftOf(ref, train)).toEqual([{ feature: 'x', psi: 0 }]);

    // now: 1 1 1 1 1 | - | 6 7 | 8 9 | missing -> 0.5, 0, 0.2, 0.2, 0.1
    const now = matrix([1, 1, 1, 1, 1, 6, 7, 8, 9, NaN]);
    const expected =
      0.2 * Math.log(0.5 / 0.3) + (1e-4 - 0.2) * Math.log(1e-4 / 0.2) + 0 + -0.1 * Math.log(0.2 / 0.3) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
    expect(expected).toBeCloseTo(2.3522167895967927, 12);
    expect(driftOf(ref, now)[0]!.psi).toBeCloseTo(expected, 12);
  });

  it('fits on the training rows only, and ties collapse bins', () => {
    const m = matrix([1, 1, 1, 1, 2, 100]);
    const ref = fitDriftReference(m, fitPrep(m, OPTS, [0, 1, 2, 3, 4]), 4, [0, 1, 2, 3, 4]);
    // quartiles of 1 1 1 1 2: 1, 1, 1 -> one edge
    expect(ref.numeric[0]!.edges).toEqual([1]);
    expect(ref.numeric[0]!.shares).toEqual([0.8, 0.2, 0]);
  });

  it('categorical features: the one-hot values and "other"', () => {
    const dict = ['(missing)', 'a', 'b', 'c', 'z'];
    const cat = (codes: number[]): CategoricalColumn => ({ property: 'stage', dict, codes: Int32Array.from(codes) });
    // a x5, b x3, c x2: top 2 = a, b; c is "other"
    const train = matrix(Array.from({ length: 10 }, (_, i) => i), [cat([1, 1, 1, 1, 1, 2, 2, 2, 3, 3])]);
    const prep = fitPrep(train, OPTS);
    const ref = fitDriftReference(train, prep, 4);
    expect(ref.categorical).toEqual([{ property: 'stage', values: ['a', 'b'], shares: [0.5, 0.3, 0.2] }]);
    // a x2, b x3, others (c, an unseen z, missing) x5
    const now = matrix(Array.from({ length: 10 }, (_, i) => i), [cat([1, 1, 2, 2, 2, 3, 3, 4, 4, 0])]);
    const d = driftOf(ref, now);
    expect(d.map((x) => x.feature)).toEqual(['stage', 'x']);
    expect(d[0]!.psi).toBeCloseTo(0.549774439124493, 12);
  });
});
