// AssemblyScript: the k-means chunk kernel of src/ml/kmeans-kernel.ts,
// compiled to WebAssembly with 128-bit SIMD by `npm run build:wasm`, which
// writes src/ml/ml-wasm-binary.ts. Same bounds, same steps, same state
// layout, and every sum in the same order, so the two kernels give identical
// models: SIMD goes across centres (Hamerly's full scan) and across columns
// of the cluster sums, never along one sum. test/ml/wasm.test.ts
// checks the binary was built from this file and the two kernels agree.
//
// Everything lives in the one shared memory the caller lays out; the header
// at `h` holds the sizes and the byte offsets of every array (u32 slots):
//   0 n, 1 d, 2 k, 3 chunkRows, 4 data, 5 labels, 6 upper, 7 lowerAny,
//   8 lower, 9 centers, 10 half, 11 halfPair, 12 otherShift, 13 totalShift,
//   14 partSums, 15 partCounts, 16 partValue, 17 params, 18 scratch
//   (per chunk: the transposed centres, d × k rounded up to 4, and 4 more).
// params (f64): [cmd, accumulate, elkan].
// No allocation, no static data: every worker instantiates this module over
// the same memory, and a data segment would be written again by each one.

@inline function slot(h: usize, i: i32): usize {
  return <usize>load<u32>(h + (<usize>i << 2));
}

@inline function f64At(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}

@inline function setF64(base: usize, i: i32, v: f64): void {
  store<f64>(base + (<usize>i << 3), v);
}

/**
 * Squared distance of the d values at x and c, summed in column order like
 * the JavaScript kernel's loop, so both kernels give the same bits.
 */
@inline function sqdist(x: usize, c: usize, d: i32): f64 {
  let q = 0.0;
  for (let o: usize = 0, end = <usize>d << 3; o < end; o += 8) {
    const g = load<f64>(x + o) - load<f64>(c + o);
    q += g * g;
  }
  return q;
}

/**
 * The centres column by column, k padded to 4 or a multiple of 8 (`kq`):
 * row t holds column t of every centre, so one row's distances to four or
 * eight centres are two or four SIMD accumulators, each lane summing in
 * column order as sqdist does.
 */
@inline function transpose(centers: usize, ct: usize, d: i32, k: i32, kq: i32): void {
  for (let t = 0; t < d; t++) {
    for (let j = 0; j < kq; j++) {
      setF64(ct, t * kq + j, j < k ? f64At(centers, j * d + t) : 0);
    }
  }
}

/** dst[0..d) += sign * src[0..d); each element on its own, so the order matches a scalar loop. */
@inline function addRow(dst: usize, src: usize, d: i32, subtract: bool): void {
  let t = 0;
  for (; t + 2 <= d; t += 2) {
    const o = <usize>t << 3;
    const v = subtract ? f64x2.sub(v128.load(dst + o), v128.load(src + o)) : f64x2.add(v128.load(dst + o), v128.load(src + o));
    v128.store(dst + o, v);
  }
  if (t < d) {
    const o = <usize>t << 3;
    store<f64>(dst + o, subtract ? load<f64>(dst + o) - load<f64>(src + o) : load<f64>(dst + o) + load<f64>(src + o));
  }
}

export function chunk(h: usize, c: i32): void {
  const n = <i32>load<u32>(h);
  const d = <i32>load<u32>(h, 4);
  const k = <i32>load<u32>(h, 8);
  const chunkRows = <i32>load<u32>(h, 12);
  const data = slot(h, 4);
  const labels = slot(h, 5);
  const upper = slot(h, 6);
  const lowerAny = slot(h, 7);
  const lower = slot(h, 8);
  const centers = slot(h, 9);
  const half = slot(h, 10);
  const halfPair = slot(h, 11);
  const otherShift = slot(h, 12);
  const total = slot(h, 13);
  const partSums = slot(h, 14);
  const partCounts = slot(h, 15);
  const partValue = slot(h, 16);
  const params = slot(h, 17);
  const kq = k <= 4 ? 4 : (k + 7) & ~7;
  const ct = slot(h, 18) + ((<usize>c * (<usize>d * <usize>kq + 8)) << 3);
  // Up to eight distances out of the SIMD accumulators, after the chunk's centres.
  const qs = ct + ((<usize>d * <usize>kq) << 3);

  const lo = c * chunkRows;
  const hi = min(n, lo + chunkRows);
  const rowBytes = <usize>d << 3;
  const cmd = <i32>f64At(params, 0);
  if (cmd == 2) {
    let sum = 0.0;
    for (let i = lo; i < hi; i++) {
      const a = load<i32>(labels + (<usize>i << 2));
      sum += sqdist(data + <usize>i * rowBytes, centers + <usize>a * rowBytes, d);
    }
    setF64(partValue, c, sum);
    return;
  }
  const accumulate = f64At(params, 1) == 1;
  const elkan = f64At(params, 2) == 1;
  const sums = partSums + <usize>c * <usize>k * rowBytes;
  const counts = partCounts + (<usize>(c * k) << 3);
  const fresh = load<i32>(labels + (<usize>lo << 2)) < 0;
  let changed = 0;

  if (elkan) {
    for (let i = lo; i < hi; i++) {
      const x = data + <usize>i * rowBytes;
      const a0 = load<i32>(labels + (<usize>i << 2));
      const lb = lower + ((<usize>i * <usize>k) << 3);
      if (a0 < 0) {
        let b1 = Infinity;
        let j1 = 0;
        for (let j = 0; j < k; j++) {
          const dist = Math.sqrt(sqdist(x, centers + <usize>j * rowBytes, d));
          setF64(lb, j, dist + f64At(total, j));
          if (dist < b1) {
            b1 = dist;
            j1 = j;
          }
        }
        setF64(upper, i, b1 - f64At(total, j1));
        store<i32>(labels + (<usize>i << 2), j1);
        changed++;
        continue;
      }
      let u = f64At(upper, i) + f64At(total, a0);
      if (u <= f64At(half, a0)) continue;
      let a = a0;
      let tight = false;
      for (let j = 0; j < k; j++) {
        if (j == a) continue;
        const tj = f64At(total, j);
        const lj = f64At(lb, j);
        const hp = f64At(halfPair, a * k + j);
        if (u + tj <= lj || u <= hp) continue;
        if (!tight) {
          u = Math.sqrt(sqdist(x, centers + <usize>a * rowBytes, d));
          setF64(lb, a, u + f64At(total, a));
          tight = true;
          if (u + tj <= lj || u <= hp) continue;
        }
        const dist = Math.sqrt(sqdist(x, centers + <usize>j * rowBytes, d));
        setF64(lb, j, dist + tj);
        if (dist < u || (dist == u && j < a)) {
          a = j;
          u = dist;
        }
      }
      if (!tight) continue;
      setF64(upper, i, u - f64At(total, a));
      if (a != a0) {
        store<i32>(labels + (<usize>i << 2), a);
        changed++;
        if (accumulate && !fresh) moveRow(x, a0, a, sums, counts, rowBytes, d);
      }
    }
  } else {
    transpose(centers, ct, d, k, kq);
    for (let i = lo; i < hi; i++) {
      const x = data + <usize>i * rowBytes;
      const a = load<i32>(labels + (<usize>i << 2));
      if (a >= 0) {
        const u = f64At(upper, i) + f64At(total, a);
        const l = f64At(lowerAny, i) - f64At(otherShift, a);
        const ha = f64At(half, a);
        const bound = ha > l ? ha : l;
        // No tightening first, unlike the JavaScript kernel: the SIMD scan of
        // all centres costs about what one scalar distance does. Labels are
        // the same either way: the scan alone decides them.
        if (u <= bound) continue;
      }
      let b1 = Infinity;
      let b2 = Infinity;
      let j1 = 0;
      const stride = <usize>kq << 3;
      for (let jb = 0; jb < k; jb += 8) {
        let acc0 = f64x2.splat(0);
        let acc1 = f64x2.splat(0);
        let acc2 = f64x2.splat(0);
        let acc3 = f64x2.splat(0);
        let p = ct + (<usize>jb << 3);
        if (kq == 4) {
          for (let o: usize = 0; o < rowBytes; o += 8) {
            const xs = f64x2.splat(load<f64>(x + o));
            const g0 = f64x2.sub(xs, v128.load(p));
            const g1 = f64x2.sub(xs, v128.load(p, 16));
            acc0 = f64x2.add(acc0, f64x2.mul(g0, g0));
            acc1 = f64x2.add(acc1, f64x2.mul(g1, g1));
            p += stride;
          }
        } else {
          for (let o: usize = 0; o < rowBytes; o += 8) {
            const xs = f64x2.splat(load<f64>(x + o));
            const g0 = f64x2.sub(xs, v128.load(p));
            const g1 = f64x2.sub(xs, v128.load(p, 16));
            const g2 = f64x2.sub(xs, v128.load(p, 32));
            const g3 = f64x2.sub(xs, v128.load(p, 48));
            acc0 = f64x2.add(acc0, f64x2.mul(g0, g0));
            acc1 = f64x2.add(acc1, f64x2.mul(g1, g1));
            acc2 = f64x2.add(acc2, f64x2.mul(g2, g2));
            acc3 = f64x2.add(acc3, f64x2.mul(g3, g3));
            p += stride;
          }
        }
        v128.store(qs, acc0);
        v128.store(qs, acc1, 16);
        v128.store(qs, acc2, 32);
        v128.store(qs, acc3, 48);
        const m = min(8, k - jb);
        for (let r = 0; r < m; r++) {
          const q = f64At(qs, r);
          const j = jb + r;
          if (q < b1) {
            b2 = b1;
            b1 = q;
            j1 = j;
          } else if (q < b2) {
            b2 = q;
          }
        }
      }
      setF64(upper, i, Math.sqrt(b1) - f64At(total, j1));
      setF64(lowerAny, i, Math.sqrt(b2) + f64At(otherShift, j1));
      if (j1 != a) {
        store<i32>(labels + (<usize>i << 2), j1);
        changed++;
        if (accumulate && !fresh) moveRow(x, a, j1, sums, counts, rowBytes, d);
      }
    }
  }

  if (accumulate && (fresh || changed * 8 > hi - lo)) {
    memory.fill(sums, 0, <usize>k * rowBytes);
    memory.fill(counts, 0, <usize>k << 3);
    for (let i = lo; i < hi; i++) {
      const a = load<i32>(labels + (<usize>i << 2));
      setF64(counts, a, f64At(counts, a) + 1);
      addRow(sums + <usize>a * rowBytes, data + <usize>i * rowBytes, d, false);
    }
  }
  setF64(partValue, c, <f64>changed);
}

/** The chunk's sums follow a row that changed cluster. */
@inline function moveRow(x: usize, from: i32, to: i32, sums: usize, counts: usize, rowBytes: usize, d: i32): void {
  setF64(counts, from, f64At(counts, from) - 1);
  setF64(counts, to, f64At(counts, to) + 1);
  addRow(sums + <usize>from * rowBytes, x, d, true);
  addRow(sums + <usize>to * rowBytes, x, d, false);
}
