// AssemblyScript: the silhouette's distance rows (src/ml/metrics.ts,
// blockRow), compiled into the same module as asm/kmeans.ts.
//
// Distances from one row to a run of rows: the run is read column-major
// (xT, d × m) so four rows' distances are two SIMD accumulators, each lane
// summing in column order exactly as the JavaScript loop does. Only the
// returned total adds up in another order (per lane), a last-bit difference.

/**
 * Distances from the row at `xi` (d values) to rows [j0, j1) of `xT`
 * (column-major, m rows): returns their sum and adds each to acc[j].
 */
export function silhouetteRow(xi: usize, xT: usize, m: i32, d: i32, j0: i32, j1: i32, acc: usize): f64 {
  const stride = <usize>m << 3;
  let sum4a = f64x2.splat(0);
  let sum4b = f64x2.splat(0);
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    let q0 = f64x2.splat(0);
    let q1 = f64x2.splat(0);
    let p = xT + (<usize>j << 3);
    for (let o: usize = 0, end = <usize>d << 3; o < end; o += 8) {
      const xs = f64x2.splat(load<f64>(xi + o));
      const g0 = f64x2.sub(xs, v128.load(p));
      const g1 = f64x2.sub(xs, v128.load(p, 16));
      q0 = f64x2.add(q0, f64x2.mul(g0, g0));
      q1 = f64x2.add(q1, f64x2.mul(g1, g1));
      p += stride;
    }
    const d0 = f64x2.sqrt(q0);
    const d1 = f64x2.sqrt(q1);
    sum4a = f64x2.add(sum4a, d0);
    sum4b = f64x2.add(sum4b, d1);
    const a = acc + (<usize>j << 3);
    v128.store(a, f64x2.add(v128.load(a), d0));
    v128.store(a, f64x2.add(v128.load(a, 16), d1), 16);
  }
  const s = f64x2.add(sum4a, sum4b);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; j < j1; j++) {
    let q = 0.0;
    let p = xT + (<usize>j << 3);
    for (let o: usize = 0, end = <usize>d << 3; o < end; o += 8) {
      const g = load<f64>(xi + o) - load<f64>(p);
      q += g * g;
      p += stride;
    }
    const dist = Math.sqrt(q);
    sum += dist;
    const a = acc + (<usize>j << 3);
    store<f64>(a, load<f64>(a) + dist);
  }
  return sum;
}
