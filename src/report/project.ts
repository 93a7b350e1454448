/**
 * 2-D projection for the segment map. The one place the report touches PCA,
 * so the implementation behind it (src/ml/pca.ts today) can change freely.
 */
import { pca, transform } from '../ml/pca.js';

export interface Projection {
  /** rows×2 (all n rows, or the rows asked for), row-major */
  coords: Float64Array;
  /** share of the total variance along each axis */
  explained: [number, number];
  /** d loadings of each axis (unit vectors) */
  loadings: [Float64Array, Float64Array];
}

/** PCA fitted on all n rows of X (n×d); the coordinates of `rows` only when given (ascending or not), else of every row. */
export function project2d(X: Float64Array, n: number, d: number, rows?: ArrayLike<number>): Projection {
  const m = rows ? rows.length : n;
  const row = (i: number): number => (rows ? (rows[i] as number) : i);
  const coords = new Float64Array(m * 2);
  if (n < 2 || d < 2) {
    // one feature (or one row): the feature itself is the only axis
    for (let i = 0; i < m; i++) coords[i * 2] = d >= 1 ? (X[row(i) * d] as number) : 0;
    const l0 = new Float64Array(d);
    if (d >= 1) l0[0] = 1;
    return { coords, explained: [n < 2 ? 0 : 1, 0], loadings: [l0, new Float64Array(d)] };
  }
  const model = pca(X, n, d, { nComponents: 2 });
  let sub = X;
  if (rows) {
    sub = new Float64Array(m * d);
    for (let i = 0; i < m; i++) sub.set(X.subarray(row(i) * d, row(i) * d + d), i * d);
  }
  coords.set(transform(model, sub, m));
  return {
    coords,
    explained: [model.explainedVarianceRatio[0] ?? 0, model.explainedVarianceRatio[1] ?? 0],
    loadings: [model.components.slice(0, d), model.components.slice(d, 2 * d)],
  };
}
