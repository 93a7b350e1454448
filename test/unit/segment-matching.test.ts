import { describe, it, expect } from 'vitest';
import { hungarian } from '../../src/segment/hungarian.js';
import { matchSegments } from '../../src/segment/stable-ids.js';
import { nameSegments, type ZProfile } from '../../src/segment/names.js';
import { createRng } from '../../src/ml/random.js';

/** Minimum total cost over all assignments of min(rows, cols) distinct pairs (rows to distinct columns). */
function bruteForce(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  let best = Infinity;
  const usedCols = new Array<boolean>(cols).fill(false);
  const need = Math.min(rows, cols);
  // choose for each row a column or "none"; exactly `need` rows get a column
  const rec = (i: number, assigned: number, sum: number): void => {
    if (i === rows) {
      if (assigned === need) best = Math.min(best, sum);
      return;
    }
    if (rows - i - 1 >= need - assigned) rec(i + 1, assigned, sum); // row i unassigned
    for (let j = 0; j < cols; j++) {
      if (usedCols[j]) continue;
      usedCols[j] = true;
      rec(i + 1, assigned + 1, sum + cost[i]![j]!);
      usedCols[j] = false;
    }
  };
  rec(0, 0, 0);
  return best;
}

function totalOf(cost: number[][], assign: number[]): number {
  return assign.reduce((s, j, i) => (j >= 0 ? s + cost[i]![j]! : s), 0);
}

function checkValid(assign: number[], rows: number, cols: number): void {
  expect(assign).toHaveLength(rows);
  const used = assign.filter((j) => j >= 0);
  expect(new Set(used).size).toBe(used.length);
  for (const j of used) {
    expect(j).toBeGreaterThanOrEqual(0);
    expect(j).toBeLessThan(cols);
  }
  expect(used.length).toBe(Math.min(rows, cols));
}

describe('hungarian', () => {
  it('solves a known 3x3 case', () => {
    const cost = [
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ];
    const a = hungarian(cost);
    checkValid(a, 3, 3);
    expect(totalOf(cost, a)).toBe(5); // 1 + 2 + 2
  });

  it('returns [] for an empty matrix and -1s for rows without columns', () => {
    expect(hungarian([])).toEqual([]);
    expect(hungarian([[], []])).toEqual([-1, -1]);
  });

  it('matches brute force on random square, wide and tall matrices (incl. negatives and ties)', () => {
    const rng = createRng(20240607);
    const shapes: [number, number][] = [
      [1, 1], [1, 4], [4, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6],
      [2, 5], [3, 6], [5, 2], [6, 3], [4, 6], [6, 4], [7, 5],
    ];
    let cases = 0;
    for (const [rows, cols] of shapes) {
      for (let rep = 0; rep < 12; rep++) {
        const ints = rep % 3 === 0; // small integers: many ties
        const neg = rep % 2 === 0;
        const cost = Array.from({ length: rows }, () =>
          Array.from({ length: cols }, () => {
            const v = ints ? rng.int(4) : rng.next() * 100;
            return neg ? -v : v;
          }),
        );
        const a = hungarian(cost);
        checkValid(a, rows, cols);
        expect(totalOf(cost, a)).toBeCloseTo(bruteForce(cost), 9);
        cases++;
      }
    }
    expect(cases).toBe(shapes.length * 12);
  });

  it('handles large magnitudes without losing the optimum', () => {
    const cost = [
      [1e9, 1e9 + 1, 5],
      [1e9 + 2, 3, 1e9],
    ];
    const a = hungarian(cost);
    checkValid(a, 2, 3);
    expect(totalOf(cost, a)).toBe(8);
  });
});

/** Labels for customers c0..c(n-1): cluster of each, given as a string like "0011122". */
function labelsOf(s: string): Int32Array {
  return Int32Array.from([...s].map(Number));
}
const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);
function counter(prefix = 'new'): () => string {
  let i = 0;
  return () => `${prefix}_${++i}`;
}

describe('matchSegments', () => {
  it('gives fresh ids when there is no previous model', () => {
    const m = matchSegments(ids(4), labelsOf('0112'), 3, new Map(), counter());
    expect(m.ids).toEqual(['new_1', 'new_2', 'new_3']);
    expect(m.retired).toEqual([]);
  });

  it('maps permuted labels back to the previous ids', () => {
    const customers = ids(9);
    const prev = new Map(customers.map((c, i) => [c, ['seg_a', 'seg_b', 'seg_c'][Math.floor(i / 3)]!] as const));
    // same groups, labels permuted: group a -> 2, b -> 0, c -> 1
    const m = matchSegments(customers, labelsOf('222000111'), 3, prev, counter());
    expect(m.ids).toEqual(['seg_b', 'seg_c', 'seg_a']);
    expect(m.retired).toEqual([]);
  });

  it('follows the majority when a few customers moved', () => {
    const customers = ids(10);
    const prev = new Map(customers.map((c, i) => [c, i < 5 ? 'seg_x' : 'seg_y'] as const));
    // cluster 1 has 4 of x and 1 of y; cluster 0 has 1 of x and 4 of y
    const m = matchSegments(customers, labelsOf('1111001000'), 2, prev, counter());
    expect(m.ids).toEqual(['seg_y', 'seg_x']);
  });

  it('gives a new extra cluster a fresh id', () => {
    const customers = ids(9);
    const prev = new Map(customers.slice(0, 6).map((c, i) => [c, i < 3 ? 'seg_a' : 'seg_b'] as const));
    // c6..c8 are new customers forming cluster 0
    const m = matchSegments(customers, labelsOf('222111000'), 3, prev, counter());
    expect(m.ids[2]).toBe('seg_a');
    expect(m.ids[1]).toBe('seg_b');
    expect(m.ids[0]).toBe('new_1');
    expect(m.retired).toEqual([]);
  });

  it('gives a fresh id to a cluster that shares no customer with its forced match', () => {
    const customers = ids(6);
    const prev = new Map([
      ['c0', 'seg_a'],
      ['c1', 'seg_a'],
      ['c2', 'seg_b'],
      ['c3', 'seg_b'],
    ]);
    // cluster 0 = {c0,c1,c2,c3} takes one of the old ids; cluster 1 = {c4,c5} overlaps none
    const m = matchSegments(customers, labelsOf('000011'), 2, prev, counter());
    expect(['seg_a', 'seg_b']).toContain(m.ids[0]);
    expect(m.ids[1]).toBe('new_1');
    expect(m.retired).toHaveLength(1);
    expect(m.retired[0]).not.toBe(m.ids[0]);
  });

  it('reports a vanished segment as retired', () => {
    const customers = ids(9);
    const prev = new Map(customers.map((c, i) => [c, ['seg_a', 'seg_b', 'seg_c'][Math.floor(i / 3)]!] as const));
    // b and c merged into one cluster; the larger share decides nothing here (equal), one of them retires
    const m = matchSegments(customers, labelsOf('000111111'), 2, prev, counter());
    expect(m.ids[0]).toBe('seg_a');
    expect(['seg_b', 'seg_c']).toContain(m.ids[1]);
    expect(m.retired).toHaveLength(1);
    expect(['seg_b', 'seg_c']).toContain(m.retired[0]);
    expect(m.retired[0]).not.toBe(m.ids[1]);
  });

  it('ids are always unique and every previous id is either kept or retired', () => {
    const rng = createRng(7);
    for (let rep = 0; rep < 50; rep++) {
      const n = 30;
      const customers = ids(n);
      const prevK = 1 + rng.int(5);
      const k = 1 + rng.int(6);
      const prev = new Map<string, string>();
      customers.forEach((c) => {
        if (rng.next() < 0.8) prev.set(c, `seg_${rng.int(prevK)}`);
      });
      const labels = Int32Array.from(customers, () => rng.int(k));
      const m = matchSegments(customers, labels, k, prev, counter());
      expect(m.ids).toHaveLength(k);
      expect(new Set(m.ids).size).toBe(k);
      const prevIds = new Set(prev.values());
      const kept = m.ids.filter((id) => prevIds.has(id));
      expect(new Set([...kept, ...m.retired])).toEqual(prevIds);
      expect(kept.length + m.retired.length).toBe(prevIds.size);
    }
  });
});

const rfm = (r: number, f: number, m: number, aov = 0, tenure = 0): ZProfile => ({
  recency_days: r,
  frequency: f,
  monetary: m,
  avg_order_value: aov,
  tenure_days: tenure,
});

describe('nameSegments', () => {
  it('names an obviously recent, frequent, high-spend segment "Champions"', () => {
    const profiles = [
      rfm(1.8, -1.0, -0.8, -0.3, 0.5), // long gone
      rfm(-1.5, 2.2, 2.5, 0.8, 0.9), // recent, frequent, big spend
      rfm(-0.8, -0.7, -0.5, 0.1, -1.6), // new
      rfm(0.1, 0.0, -0.1, 0.0, 0.1), // average
    ];
    const names = nameSegments(profiles);
    expect(names[1]).toBe('Champions');
    expect(names.filter((n) => n === 'Champions')).toHaveLength(1);
  });

  it('keeps "Champions" on the champion whatever the order of the profiles', () => {
    const champ = rfm(-2, 2, 2, 1, 1);
    const others = [rfm(2, -1, -1), rfm(0, 0, 0), rfm(1, -2, -1, 0, 1)];
    for (let pos = 0; pos <= others.length; pos++) {
      const ps = [...others];
      ps.splice(pos, 0, champ);
      expect(nameSegments(ps)[pos]).toBe('Champions');
    }
  });

  it('gives unique names for every k up to 12, deterministically', () => {
    const rng = createRng(99);
    for (let k = 1; k <= 12; k++) {
      const ps = Array.from({ length: k }, () => rfm(rng.normal(), rng.normal(), rng.normal(), rng.normal(), rng.normal()));
      const names = nameSegments(ps);
      expect(names).toHaveLength(k);
      expect(new Set(names).size).toBe(k);
      for (const n of names) expect(n.trim()).not.toBe('');
      expect(nameSegments(ps.map((p) => ({ ...p })))).toEqual(names);
    }
  });

  it('gives unique names even for identical RFM profiles', () => {
    const names = nameSegments(Array.from({ length: 12 }, () => rfm(0, 0, 0)));
    expect(new Set(names).size).toBe(12);
  });

  it('names non-RFM segments by their most distinctive feature', () => {
    const names = nameSegments([
      { age: 2.1, income: 0.3, visits: -0.2 },
      { age: -1.7, income: 0.2, visits: 0.4 },
      { age: 0.1, income: -0.2, visits: 1.9 },
      { age: 0.2, income: -2.4, visits: 0.3 },
    ]);
    expect(names).toEqual(['High age', 'Low age', 'High visits', 'Low income']);
  });

  it('replaces underscores by spaces in feature names', () => {
    expect(nameSegments([{ num_visits: 1.5 }, { num_visits: -1.5 }])).toEqual(['High num visits', 'Low num visits']);
  });

  it('disambiguates non-RFM segments with the same top feature', () => {
    const names = nameSegments([
      { age: 2.0, income: 1.0 },
      { age: 1.8, income: -1.0 },
      { age: -2.0, income: 0.1 },
    ]);
    expect(new Set(names).size).toBe(3);
    expect(names[0]).toMatch(/^High age/);
    expect(names[1]).toMatch(/^High age/);
    expect(names[0]).toContain('high income');
    expect(names[1]).toContain('low income');
    expect(names[2]).toBe('Low age');
  });

  it('gives unique names to identical non-RFM profiles', () => {
    const names = nameSegments([{ age: 1 }, { age: 1 }, { age: 1 }]);
    expect(new Set(names).size).toBe(3);
    expect(names.every((n) => n.startsWith('High age'))).toBe(true);
  });

  it('names nothing for no profiles', () => {
    expect(nameSegments([])).toEqual([]);
  });
});
