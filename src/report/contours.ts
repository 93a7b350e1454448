/**
 * Density contours for the segment map, per group of points: a Gaussian
 * kernel density on a grid (Scott's bandwidth), cut at the density that keeps
 * a given share of the group's points inside (a highest-density region), and
 * traced with marching squares into polylines. Pure: arrays in, lines out.
 */

export interface ContourOptions {
  /** [xmin, xmax, ymin, ymax] of the grid */
  extent: [number, number, number, number];
  /** shares of each group's points to enclose, e.g. [0.5, 0.9] */
  masses: readonly number[];
  /** grid nodes per side (default 64) */
  grid?: number;
  /** groups with fewer points get no contour (default 20) */
  minPoints?: number;
}

export interface ContourLines {
  group: number;
  mass: number;
  /** polylines of [x, y]; a closed line repeats its first point at the end */
  lines: [number, number][][];
}

export function densityContours(xs: Float64Array, ys: Float64Array, groups: Int32Array, opts: ContourOptions): ContourLines[] {
  const G = Math.max(8, opts.grid ?? 64);
  const [x0, x1, y0, y1] = opts.extent;
  const dx = (x1 - x0) / (G - 1) || 1;
  const dy = (y1 - y0) / (G - 1) || 1;
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] as number;
    const list = byGroup.get(g);
    if (list) list.push(i);
    else byGroup.set(g, [i]);
  }
  const out: ContourLines[] = [];
  for (const [g, idx] of [...byGroup].sort((a, b) => a[0] - b[0])) {
    if (idx.length < (opts.minPoints ?? 20)) continue;
    const density = kde(xs, ys, idx, G, x0, y0, dx, dy, x1 - x0, y1 - y0);
    const atPoints = idx.map((i) => bilinear(density, G, ((xs[i] as number) - x0) / dx, ((ys[i] as number) - y0) / dy)).sort((a, b) => a - b);
    for (const mass of opts.masses) {
      const level = atPoints[Math.min(atPoints.length - 1, Math.max(0, Math.floor((1 - mass) * atPoints.length)))] as number;
      if (!(level > 0)) continue;
      const lines = marchingSquares(density, G, level).map((line) => line.map(([gi, gj]): [number, number] => [x0 + gi * dx, y0 + gj * dy]));
      if (lines.length) out.push({ group: g, mass, lines });
    }
  }
  return out;
}

function std(v: Float64Array, idx: readonly number[]): number {
  let s = 0;
  let s2 = 0;
  for (const i of idx) {
    const x = v[i] as number;
    s += x;
    s2 += x * x;
  }
  const m = s / idx.length;
  return Math.sqrt(Math.max(0, s2 / idx.length - m * m));
}

/** Unnormalized Gaussian KDE on the G×G grid (row j = y, column i = x). */
function kde(xs: Float64Array, ys: Float64Array, idx: readonly number[], G: number, x0: number, y0: number, dx: number, dy: number, w: number, h: number): Float64Array {
  const factor = Math.pow(idx.length, -1 / 6); // Scott's rule in 2-D
  const hx = Math.max(std(xs, idx) * factor, (w || 1) / 200);
  const hy = Math.max(std(ys, idx) * factor, (h || 1) / 200);
  const grid = new Float64Array(G * G);
  const kx = new Float64Array(G);
  for (const p of idx) {
    const px = xs[p] as number;
    const py = ys[p] as number;
    const i0 = Math.max(0, Math.floor((px - 4 * hx - x0) / dx));
    const i1 = Math.min(G - 1, Math.ceil((px + 4 * hx - x0) / dx));
    const j0 = Math.max(0, Math.floor((py - 4 * hy - y0) / dy));
    const j1 = Math.min(G - 1, Math.ceil((py + 4 * hy - y0) / dy));
    for (let i = i0; i <= i1; i++) {
      const u = (x0 + i * dx - px) / hx;
      kx[i] = Math.exp(-0.5 * u * u);
    }
    for (let j = j0; j <= j1; j++) {
      const v = (y0 + j * dy - py) / hy;
      const ky = Math.exp(-0.5 * v * v);
      const row = j * G;
      for (let i = i0; i <= i1; i++) grid[row + i] = (grid[row + i] as number) + (kx[i] as number) * ky;
    }
  }
  return grid;
}

function bilinear(grid: Float64Array, G: number, gx: number, gy: number): number {
  const i = Math.min(G - 2, Math.max(0, Math.floor(gx)));
  const j = Math.min(G - 2, Math.max(0, Math.floor(gy)));
  const fx = Math.min(1, Math.max(0, gx - i));
  const fy = Math.min(1, Math.max(0, gy - j));
  const a = grid[j * G + i] as number;
  const b = grid[j * G + i + 1] as number;
  const c = grid[(j + 1) * G + i + 1] as number;
  const d = grid[(j + 1) * G + i] as number;
  return a * (1 - fx) * (1 - fy) + b * fx * (1 - fy) + c * fx * fy + d * (1 - fx) * fy;
}

// cell edges: 0 bottom (a-b), 1 right (b-c), 2 top (d-c), 3 left (a-d); corners a=(i,j) b=(i+1,j) c=(i+1,j+1) d=(i,j+1)
const CASES: readonly (readonly [number, number][])[] = [
  [], [[3, 0]], [[0, 1]], [[3, 1]], [[1, 2]], [], [[0, 2]], [[3, 2]],
  [[2, 3]], [[0, 2]], [], [[1, 2]], [[3, 1]], [[0, 1]], [[3, 0]], [],
];

/**
 * Marching squares at `level` over the G×G grid: polylines in grid
 * coordinates (column, row), stitched across cells.
 */
export function marchingSquares(grid: Float64Array, G: number, level: number): [number, number][][] {
  const hCount = (G - 1) * G;
  const edgeId = (i: number, j: number, e: number): number =>
    e === 0 ? j * (G - 1) + i : e === 2 ? (j + 1) * (G - 1) + i : hCount + j * G + (e === 1 ? i + 1 : i);
  const points = new Map<number, [number, number]>();
  const links = new Map<number, number[]>();
  const v = (i: number, j: number): number => grid[j * G + i] as number;
  const cross = (i: number, j: number, e: number): [number, number] => {
    const t = (a: number, b: number): number => (a === b ? 0.5 : (level - a) / (b - a));
    switch (e) {
      case 0:
        return [i + t(v(i, j), v(i + 1, j)), j];
      case 1:
        return [i + 1, j + t(v(i + 1, j), v(i + 1, j + 1))];
      case 2:
        return [i + t(v(i, j + 1), v(i + 1, j + 1)), j + 1];
      default:
        return [i, j + t(v(i, j), v(i, j + 1))];
    }
  };
  const link = (a: number, b: number): void => {
    const la = links.get(a);
    if (la) la.push(b);
    else links.set(a, [b]);
    const lb = links.get(b);
    if (lb) lb.push(a);
    else links.set(b, [a]);
  };
  for (let j = 0; j < G - 1; j++) {
    for (let i = 0; i < G - 1; i++) {
      const a = v(i, j) >= level ? 1 : 0;
      const b = v(i + 1, j) >= level ? 2 : 0;
      const c = v(i + 1, j + 1) >= level ? 4 : 0;
      const d = v(i, j + 1) >= level ? 8 : 0;
      const code = a | b | c | d;
      let segs = CASES[code] as readonly [number, number][];
      if (code === 5 || code === 10) {
        const centre = (v(i, j) + v(i + 1, j) + v(i + 1, j + 1) + v(i, j + 1)) / 4 >= level;
        // a saddle: the centre decides which corners the lines cut off
        segs = (code === 5) === centre ? [[0, 1], [2, 3]] : [[3, 0], [1, 2]];
      }
      for (const [e1, e2] of segs) {
        const id1 = edgeId(i, j, e1);
        const id2 = edgeId(i, j, e2);
        if (!points.has(id1)) points.set(id1, cross(i, j, e1));
        if (!points.has(id2)) points.set(id2, cross(i, j, e2));
        link(id1, id2);
      }
    }
  }
  // walk the chains: open ones (ends at the border) first, then the loops
  const seen = new Set<number>();
  const lines: [number, number][][] = [];
  const walk = (start: number): void => {
    const line: [number, number][] = [];
    let prev = -1;
    let cur: number | undefined = start;
    while (cur !== undefined && !seen.has(cur)) {
      seen.add(cur);
      line.push(points.get(cur) as [number, number]);
      const next: number | undefined = (links.get(cur) ?? []).find((n) => n !== prev && !seen.has(n));
      prev = cur;
      cur = next;
    }
    const nb = links.get(start) ?? [];
    if (nb.length === 2 && line.length > 2 && nb.includes(prev)) line.push(line[0] as [number, number]);
    if (line.length > 1) lines.push(line);
  };
  for (const [id, nb] of links) if (nb.length === 1 && !seen.has(id)) walk(id);
  for (const id of links.keys()) if (!seen.has(id)) walk(id);
  return lines;
}
