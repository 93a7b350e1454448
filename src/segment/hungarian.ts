/**
 * Hungarian algorithm (Kuhn-Munkres, O(n^3)) for a rectangular cost matrix:
 * assigns each row to a distinct column minimising the total cost. Returns
 * the column of each row, or -1 when there are more rows than columns.
 */
export function hungarian(cost: number[][]): number[] {
  const rows = cost.length;
  const cols = rows ? (cost[0]?.length ?? 0) : 0;
  const n = Math.max(rows, cols);
  if (n === 0) return [];
  let big = 0;
  for (const r of cost) for (const v of r) big = Math.max(big, Math.abs(v));
  const pad = big * 2 + 1;
  const a = (i: number, j: number): number => (i < rows && j < cols ? (cost[i]?.[j] ?? pad) : pad);
  // potentials and matching, 1-based as in the classic e-maxx formulation
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - (u[i0] as number) - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else minv[j] = (minv[j] as number) - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0);
  }
  const ans = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= n; j++) {
    const i = (p[j] as number) - 1;
    if (i >= 0 && i < rows && j - 1 < cols) ans[i] = j - 1;
  }
  return ans;
}
