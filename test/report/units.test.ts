/** Pure parts of the report: density contours, reason categories, HTML post-processing. */
import { describe, it, expect } from 'vitest';
import { densityContours } from '../../src/report/contours.js';
import { quarantineCategories } from '../../src/report/data.js';
import { postProcess } from '../../src/report/render.js';
import { wrap } from '../../src/report/charts/heatmap.js';
import { createRng } from '../../src/ml/random.js';
import { project2d } from '../../src/report/project.js';
import { mapSnapshot, parseSnapshot } from '../../src/report/snapshot.js';

function inside(x: number, y: number, poly: [number, number][]): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i] as [number, number];
    const [xj, yj] = poly[j] as [number, number];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}

describe('density contours', () => {
  it('the 50% and 90% lines of a Gaussian blob are closed and hold about that share of its points', () => {
    const rng = createRng(3);
    const n = 3000;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = rng.normal() * 2 + 5;
      ys[i] = rng.normal() + 1;
    }
    const out = densityContours(xs, ys, new Int32Array(n), { extent: [-5, 15, -4, 6], masses: [0.5, 0.9] });
    expect(out.map((c) => c.mass)).toEqual([0.5, 0.9]);
    for (const c of out) {
      expect(c.lines).toHaveLength(1);
      const line = c.lines[0] as [number, number][];
      expect(line[0]).toEqual(line[line.length - 1]);
      let k = 0;
      for (let i = 0; i < n; i++) if (inside(xs[i] as number, ys[i] as number, line)) k++;
      expect(Math.abs(k / n - c.mass)).toBeLessThan(0.05);
    }
  });

  it('one set of lines per group, none for a group too small to estimate', () => {
    const rng = createRng(4);
    const xs = Float64Array.from({ length: 410 }, (_, i) => (i < 200 ? 0 : i < 400 ? 10 : 5) + rng.normal());
    const ys = Float64Array.from({ length: 410 }, () => rng.normal());
    const groups = Int32Array.from({ length: 410 }, (_, i) => (i < 200 ? 0 : i < 400 ? 1 : 2));
    const out = densityContours(xs, ys, groups, { extent: [-5, 15, -5, 5], masses: [0.5] });
    expect(out.map((c) => c.group)).toEqual([0, 1]);
  });
});

describe('quarantine reason categories', () => {
  it('folds ids and numbers into one reason and caps the number of reasons', () => {
    const groups = [
      ...Array.from({ length: 40 }, (_, i) => ({ connector: 'files', stream: 'transactions', reason: `contact c${9000 + i} not found in this connector's contacts`, count: 1 })),
      ...Array.from({ length: 15 }, (_, i) => ({ connector: 'hubspot', stream: 'contacts', reason: `reason ${String.fromCharCode(97 + i)}`, count: 20 - i })),
    ];
    const out = quarantineCategories(groups);
    const notFound = out.find((g) => g.reason.startsWith('contact'));
    expect(notFound).toEqual({ connector: 'files', stream: 'transactions', reason: "contact … not found in this connector's contacts", count: 40 });
    expect(new Set(out.map((g) => g.reason)).size).toBe(12);
    expect(out.find((g) => g.reason === 'other reasons')?.count).toBe(10 + 9 + 8 + 7 + 6);
    expect(out.reduce((a, g) => a + g.count, 0)).toBe(40 + groups.slice(40).reduce((a, g) => a + g.count, 0));
  });
});

describe('SVG post-processing', () => {
  it('prefixes ids and their references, drops namespace URLs, and turns mark descriptions into <title>', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" class="marks"><g><path aria-label="a &amp; b" role="graphics-symbol" aria-roledescription="rect mark" d="M0,0" fill="url(#gradient_0)"/></g>' +
      '<defs><linearGradient id="gradient_0"></linearGradient></defs></svg>';
    const out = postProcess(svg, 'heat', 'Heat <map>');
    expect(out).not.toMatch(/http/);
    expect(out).toContain('id="heat-gradient_0"');
    expect(out).toContain('fill="url(#heat-gradient_0)"');
    expect(out).toContain('<title>a &amp; b</title></path>');
    expect(out).toMatch(/^<svg data-chart="heat" role="img" aria-label="Heat &lt;map&gt;"/);
  });

  it('wraps feature labels for the heat map axis', () => {
    expect(wrap('Days since last purchase')).toBe('Days since|last purchase');
    expect(wrap('Average order value')).toBe('Average order|value');
    expect(wrap('Orders')).toBe('Orders');
  });
});

describe('map projection and snapshot', () => {
  it('projects only the rows asked for, on axes fitted to all rows', () => {
    const rng = createRng(9);
    const n = 400;
    const X = Float64Array.from({ length: n * 3 }, (_, i) => rng.normal() * (1 + (i % 3)));
    const all = project2d(X, n, 3);
    const some = project2d(X, n, 3, [5, 17, 399]);
    expect(some.explained).toEqual(all.explained);
    expect(Array.from(some.coords)).toEqual([5, 17, 399].flatMap((r) => [all.coords[r * 2], all.coords[r * 2 + 1]]));
    // the first axis follows the column with the most variance
    expect(Math.abs(all.loadings[0][2] as number)).toBeGreaterThan(0.9);
  });

  it('samples only customers in a segment, and a stored snapshot is read back only for its model', () => {
    const rng = createRng(2);
    const n = 300;
    const X = Float64Array.from({ length: n * 2 }, () => rng.normal());
    const snap = mapSnapshot(X, n, 2, (i) => (i % 3 === 0 ? null : `seg_${i % 3}`), ['a', 'b'], { modelId: 7, seed: 1, sampleSize: 50 });
    expect(snap.population).toBe(200);
    expect(snap.x).toHaveLength(50);
    expect(new Set(snap.segment)).toEqual(new Set(['seg_1', 'seg_2']));
    expect(parseSnapshot(JSON.stringify(snap), 7)).toEqual(snap);
    expect(parseSnapshot(JSON.stringify(snap), 8)).toBeNull();
    expect(parseSnapshot(JSON.stringify({ ...snap, x: snap.x.slice(1) }), 7)).toBeNull();
    expect(parseSnapshot('not json', 7)).toBeNull();
    expect(parseSnapshot(undefined, 7)).toBeNull();
  });
});
