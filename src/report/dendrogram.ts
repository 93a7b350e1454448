/**
 * Dendrogram layout from a saved merge tree (scipy's linkage matrix: rows of
 * [cluster a, cluster b, height, size]; leaves 0..m-1, row i creates cluster
 * m+i; heights ascending), truncated to its last merges like scipy's
 * `truncate_mode="lastp"`, with the cut that gives k clusters.
 */

export interface MergeTree {
  /** (m-1)×4, row-major */
  merges: Float64Array;
  /** leaves */
  m: number;
  linkage: string | null;
  /** segment id of each cut cluster (numbered by first appearance of its leaves), when saved */
  segmentIds: string[] | null;
}

/**
 * The merge tree saved with a model, if any: `merges` as a flat array of rows
 * of 4 (src/ml/hierarchical's JSON) or as an array of 4-tuples, found on the
 * model's centroids JSON (or under its `model` key) or its params.
 */
export function readMergeTree(...holders: unknown[]): MergeTree | null {
  const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
  const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : null);
  for (const h of holders) {
    const outer = obj(h);
    if (!outer) continue;
    // the model's own JSON may sit under `model` (src/segment/run.ts), with the segment ids beside it
    for (const o of [outer, obj(outer.model)]) {
      if (!o) continue;
      const flat = flatMerges(o.merges ?? o.mergeTree ?? o.linkageMatrix);
      if (!flat) continue;
      const linkage = o.linkage ?? outer.linkage;
      return {
        merges: Float64Array.from(flat),
        m: flat.length / 4 + 1,
        linkage: typeof linkage === 'string' ? linkage : null,
        segmentIds: strings(o.segmentIds) ?? strings(outer.segmentIds),
      };
    }
  }
  return null;
}

function flatMerges(raw: unknown): number[] | null {
  let flat: number[] | null = null;
  if (Array.isArray(raw) && raw.every((v) => typeof v === 'number')) flat = raw as number[];
  else if (Array.isArray(raw) && raw.every((r) => Array.isArray(r) && r.length >= 3 && r.every((v) => typeof v === 'number'))) {
    flat = (raw as number[][]).flatMap((r) => [r[0] as number, r[1] as number, r[2] as number, (r[3] as number | undefined) ?? 0]);
  }
  return flat && flat.length > 0 && flat.length % 4 === 0 && flat.every(Number.isFinite) ? flat : null;
}

export interface LaidOutTree {
  links: { x: number; x2: number; y: number; y2: number; cluster: number }[];
  leaves: { x: number; size: number; cluster: number }[];
  cut: number;
  k: number;
}

/**
 * Lays out the top of the tree: at most `maxLeaves` displayed leaves (each the
 * cluster left after the earlier merges, drawn at height 0 with its size),
 * links coloured by the cut cluster below the cut (`cluster` -1 above it).
 */
export function layoutDendrogram(tree: MergeTree, k: number, maxLeaves = 40): LaidOutTree {
  const { merges, m } = tree;
  const kk = Math.min(Math.max(1, k), m);
  const p = Math.min(m, Math.max(maxLeaves, kk));
  const height = (row: number): number => merges[row * 4 + 2] as number;
  const child = (row: number, side: 0 | 1): number => merges[row * 4 + side] as number;
  // sizes of every cluster, counted from the leaves (the saved size column is not trusted)
  const size = new Float64Array(2 * m - 1);
  for (let i = 0; i < m; i++) size[i] = 1;
  // cut cluster of each node after the first m-kk merges, numbered by first appearance of its leaves
  const parent = new Int32Array(2 * m - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x] as number] as number;
      x = parent[x] as number;
    }
    return x;
  };
  for (let r = 0; r < m - 1; r++) {
    const a = child(r, 0);
    const b = child(r, 1);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= m + r || b >= m + r) {
      throw new Error(`merge tree row ${r} joins clusters ${a} and ${b}, which do not exist yet`);
    }
    size[m + r] = (size[a] as number) + (size[b] as number);
    if (r < m - kk) {
      parent[find(a)] = m + r;
      parent[find(b)] = m + r;
    }
  }
  const code = new Map<number, number>();
  for (let s = 0; s < m; s++) {
    const root = find(s);
    if (!code.has(root)) code.set(root, code.size);
  }
  // a node's cut cluster: its own root after the kept merges (-1 for nodes formed above the cut)
  const clusterOf = (node: number): number => (node >= m && node - m >= m - kk ? -1 : (code.get(find(node)) ?? -1));

  const firstShown = m - p; // merge rows >= firstShown are drawn; older clusters become displayed leaves
  const isShown = (node: number): boolean => node >= m && node - m >= firstShown;
  const root = 2 * m - 2;
  const x = new Map<number, number>();
  const y = new Map<number, number>();
  const leaves: LaidOutTree['leaves'] = [];
  const links: LaidOutTree['links'] = [];
  // iterative post-order walk (left child first), so deep trees cannot overflow the stack
  const stack: [number, boolean][] = [[m === 1 ? 0 : root, false]];
  while (stack.length) {
    const [node, expanded] = stack.pop() as [number, boolean];
    if (!isShown(node)) {
      const pos = leaves.length;
      leaves.push({ x: pos, size: size[node] as number, cluster: clusterOf(node) });
      x.set(node, pos);
      y.set(node, 0);
      continue;
    }
    const row = node - m;
    const a = child(row, 0);
    const b = child(row, 1);
    if (!expanded) {
      stack.push([node, true], [b, false], [a, false]);
      continue;
    }
    const h = height(row);
    const xa = x.get(a) as number;
    const xb = x.get(b) as number;
    x.set(node, (xa + xb) / 2);
    y.set(node, h);
    // like scipy: a merge and the two verticals under it take the merge's cluster, grey (-1) above the cut
    const c = clusterOf(node);
    links.push({ x: xa, x2: xa, y: y.get(a) as number, y2: h, cluster: c });
    links.push({ x: xb, x2: xb, y: y.get(b) as number, y2: h, cluster: c });
    links.push({ x: xa, x2: xb, y: h, y2: h, cluster: c });
  }
  // the cut: halfway between the last merge kept and the first undone
  const kept = m - kk - 1;
  const hi = kk > 1 ? height(m - kk) : NaN;
  const lo = kept >= 0 ? height(kept) : 0;
  const cut = kk === 1 ? height(m - 2) * 1.05 : (lo + hi) / 2;
  return { links, leaves, cut, k: kk };
}
