/**
 * The per-chunk work of a k-means iteration, shared by the main thread and the
 * worker threads: `kmeansChunk` is self-contained (no imports, no outside
 * names) because workers receive it as source text (`kmeansChunk.toString()`),
 * which works from the TypeScript sources under test and the build alike.
 *
 * Rows are cut into fixed chunks of `chunkRows`, whatever the thread count;
 * each chunk keeps its own per-cluster sums and the main thread adds chunks up
 * in chunk order, so the result is bit for bit the same on one thread or many.
 */

/** What `params[0]` asks a chunk to do. */
export const CMD_ASSIGN = 1;
export const CMD_INERTIA = 2;
/** Pool only: the workers go back to waiting for the next job. */
export const CMD_RELEASE = 3;

/** params layout: [cmd, accumulate, elkan]. */
export const PARAMS = 3;

/** Everything a chunk reads and writes; over SharedArrayBuffers when workers take part. */
export interface KState {
  n: number;
  d: number;
  k: number;
  chunkRows: number;
  nChunks: number;
  data: Float64Array;
  labels: Int32Array;
  /** Upper bound on each row's distance to its own centre. */
  upper: Float64Array;
  /** Hamerly: a lower bound on each row's distance to any centre other than its own. */
  lowerAny: Float64Array;
  /** Elkan: n × k, a lower bound on each row's distance to each centre (offset, see totalShift). */
  lower: Float64Array;
  centers: Float64Array;
  /** Half the distance from each centre to its nearest other centre. */
  half: Float64Array;
  /** k × k: half the distance between each pair of centres (Elkan). */
  halfPair: Float64Array;
  /**
   * Hamerly: for each centre j, the sum over this run's updates of the
   * largest move among the other centres: how far a row of cluster j may
   * have come closer to some other centre. `lowerAny` is stored plus it.
   */
  otherShift: Float64Array;
  /**
   * How far each centre has moved in total in this run. Bounds are stored
   * offset by it (upper minus, Elkan's lower plus the total of their centre),
   * so they stay valid as centres move, with no write for rows that stay.
   */
  totalShift: Float64Array;
  /** nChunks × k × d: each chunk's per-cluster sums, kept across iterations. */
  partSums: Float64Array;
  /** nChunks × k. */
  partCounts: Float64Array;
  /** Per chunk: rows whose label changed (assign) or summed squared distance (inertia). */
  partValue: Float64Array;
  params: Float64Array;
}

/**
 * One chunk of one step. Assign uses Hamerly's bounds (an upper bound on the
 * distance to the own centre, a lower bound on the distance to any other:
 * a row whose upper bound is below both that lower bound and half the gap
 * from its centre to the nearest other cannot change cluster, so only the
 * rest pay for a scan of all k centres) or Elkan's (one lower bound per row
 * and centre: fewer distances, at n×k memory). Bounds are stored offset by
 * the centres' accumulated moves (totalShift, otherShift), so rows that stay
 * put cost reads only. The chunk's sums follow the rows that moved; on the
 * first pass, or when many moved, the chunk is summed afresh (as cheap, and
 * it drops drift).
 *
 * asm/kmeans.ts is the same function in WebAssembly; keep the two in step.
 */
export function kmeansChunk(s: KState, c: number): void {
  const { n, d, k, data, labels, upper, lowerAny, lower, centers, half, otherShift, partSums, partCounts, params } = s;
  const lo = c * s.chunkRows;
  const hi = Math.min(n, lo + s.chunkRows);
  // Squared distance from the row at `base` to the centre at `cb`, in column order (as asm/kmeans.ts).
  const sq = (base: number, cb: number): number => {
    let q = 0;
    for (let t = 0; t < d; t++) {
      const g = data[base + t]! - centers[cb + t]!;
      q += g * g;
    }
    return q;
  };
  const cmd = params[0];
  if (cmd === 2) {
    let total = 0;
    for (let i = lo, base = lo * d; i < hi; i++, base += d) total += sq(base, labels[i]! * d);
    s.partValue[c] = total;
    return;
  }
  const accumulate = params[1] === 1;
  const sb = c * k * d;
  const cbk = c * k;
  const fresh = labels[lo]! < 0;
  const elkan = params[2] === 1;
  const { halfPair } = s;
  const total = s.totalShift;
  let changed = 0;
  // The chunk's sums follow a row that changed cluster (kept inline by the JIT: no import, no allocation).
  const moveRow = (base: number, from: number, to: number): void => {
    const s0 = sb + from * d;
    const s1 = sb + to * d;
    partCounts[cbk + from] = partCounts[cbk + from]! - 1;
    partCounts[cbk + to] = partCounts[cbk + to]! + 1;
    for (let t = 0; t < d; t++) {
      const v = data[base + t]!;
      partSums[s0 + t] = partSums[s0 + t]! - v;
      partSums[s1 + t] = partSums[s1 + t]! + v;
    }
  };
  for (let i = lo, base = lo * d; i < hi && elkan; i++, base += d) {
    const a0 = labels[i]!;
    const lb = i * k;
    if (a0 < 0) {
      // First pass: every distance, exact bounds all round.
      let b1 = Infinity;
      let j1 = 0;
      for (let j = 0, cb = 0; j < k; j++, cb += d) {
        const q = sq(base, cb);
        const dist = Math.sqrt(q);
        lower[lb + j] = dist + total[j]!;
        if (dist < b1) {
          b1 = dist;
          j1 = j;
        }
      }
      upper[i] = b1 - total[j1]!;
      labels[i] = j1;
      changed++;
      continue;
    }
    // Bounds are stored against the centres' total shift so far, so they age
    // without being rewritten: a centre that moved by m since a bound was set
    // raises its upper bound, and lowers its lower bound, by exactly m.
    let u = upper[i]! + total[a0]!;
    if (u <= half[a0]!) continue;
    let a = a0;
    let tight = false;
    for (let j = 0; j < k; j++) {
      if (j === a || u + total[j]! <= lower[lb + j]! || u <= halfPair[a * k + j]!) continue;
      if (!tight) {
        const ab = a * d;
        const q = sq(base, ab);
        u = Math.sqrt(q);
        lower[lb + a] = u + total[a]!;
        tight = true;
        if (u + total[j]! <= lower[lb + j]! || u <= halfPair[a * k + j]!) continue;
      }
      const cb = j * d;
      const q = sq(base, cb);
      const dist = Math.sqrt(q);
      lower[lb + j] = dist + total[j]!;
      // Ties go to the lower index, as in a plain scan.
      if (dist < u || (dist === u && j < a)) {
        a = j;
        u = dist;
      }
    }
    if (!tight) continue;
    upper[i] = u - total[a]!;
    if (a !== a0) {
      labels[i] = a;
      changed++;
      if (accumulate && !fresh) moveRow(base, a0, a);
    }
  }
  for (let i = lo, base = lo * d; i < hi && !elkan; i++, base += d) {
    const a = labels[i]!;
    if (a >= 0) {
      // Both bounds are stored offset (see totalShift, otherShift): aged for free.
      let u = upper[i]! + total[a]!;
      const l = lowerAny[i]! - otherShift[a]!;
      const bound = half[a]! > l ? half[a]! : l;
      if (u <= bound) continue;
      // Tighten the upper bound to the exact distance before scanning.
      const ab = a * d;
      const q = sq(base, ab);
      u = Math.sqrt(q);
      if (u <= bound) {
        upper[i] = u - total[a]!;
        continue;
      }
    }
    let b1 = Infinity;
    let b2 = Infinity;
    let j1 = 0;
    for (let j = 0, cb = 0; j < k; j++, cb += d) {
      const q = sq(base, cb);
      if (q < b1) {
        b2 = b1;
        b1 = q;
        j1 = j;
      } else if (q < b2) {
        b2 = q;
      }
    }
    upper[i] = Math.sqrt(b1) - total[j1]!;
    lowerAny[i] = Math.sqrt(b2) + otherShift[j1]!;
    if (j1 !== a) {
      labels[i] = j1;
      changed++;
      if (accumulate && !fresh) moveRow(base, a, j1);
    }
  }
  if (accumulate && (fresh || changed * 8 > hi - lo)) {
    partSums.fill(0, sb, sb + k * d);
    partCounts.fill(0, cbk, cbk + k);
    for (let i = lo, base = lo * d; i < hi; i++, base += d) {
      const a = labels[i]!;
      partCounts[cbk + a] = partCounts[cbk + a]! + 1;
      const o = sb + a * d;
      for (let t = 0; t < d; t++) partSums[o + t] = partSums[o + t]! + data[base + t]!;
    }
  }
  s.partValue[c] = changed;
}

/**
 * Element count and size of each array of the state, in the arena's header
 * order (asm/kmeans.ts): data, labels, upper, lowerAny, lower, centers,
 * half, halfPair, otherShift, totalShift, partSums, partCounts, partValue,
 * params. Self-contained: workers get it as source text.
 */
export function arenaLengths(n: number, d: number, k: number, nChunks: number, elkan: boolean, params: number): [number, 4 | 8][] {
  return [
    [n * d, 8],
    [n, 4],
    [n, 8],
    [elkan ? 0 : n, 8],
    [elkan ? n * k : 0, 8],
    [k * d, 8],
    [k, 8],
    [k * k, 8],
    [k, 8],
    [k, 8],
    [nChunks * k * d, 8],
    [nChunks * k, 8],
    [nChunks, 8],
    [params, 8],
  ];
}

/**
 * Typed-array views of a state laid out in `buffer` from the header at byte
 * `h` (u32 slots: 0 n, 1 d, 2 k, 3 chunkRows, 4-18 byte offsets in
 * arenaLengths order then the kernel's scratch, 19 nChunks, 20 elkan,
 * 21 params length). Self-contained apart from arenaLengths: workers get it
 * as source text.
 */
export function arenaViews(buffer: ArrayBufferLike, h: number): KState {
  const u = new Uint32Array(buffer, h, 22);
  const n = u[0]!;
  const d = u[1]!;
  const k = u[2]!;
  const nChunks = u[19]!;
  const len = arenaLengths(n, d, k, nChunks, u[20] === 1, u[21]!).map((x) => x[0]);
  const f64 = (i: number): Float64Array => new Float64Array(buffer, u[4 + i]!, len[i]!);
  return {
    n,
    d,
    k,
    chunkRows: u[3]!,
    nChunks,
    data: f64(0),
    labels: new Int32Array(buffer, u[5]!, n),
    upper: f64(2),
    lowerAny: f64(3),
    lower: f64(4),
    centers: f64(5),
    half: f64(6),
    halfPair: f64(7),
    otherShift: f64(8),
    totalShift: f64(9),
    partSums: f64(10),
    partCounts: f64(11),
    partValue: f64(12),
    params: f64(13),
  };
}

/**
 * Worker thread source: waits on the pool's control word, takes chunks from
 * a shared counter until none are left, counts each one done. ctrl layout:
 * [0] generation, [1] next chunk, [2] chunks done, [3] error, [4] workers
 * released. A worker that wakes late finds no chunk left (or joins a later
 * step, whose parameters are already in place): the caller never waits for
 * a worker that the scheduler has not run.
 */
export function workerSource(): string {
  return `
const { parentPort } = require('node:worker_threads');
const kmeansChunk = ${kmeansChunk.toString()};
// The caller's arena: the same module over the same shared memory, kept
// across fits (it is sent only when the caller makes a new one).
let arena;
const arenaLengths = ${arenaLengths.toString()};
const arenaViews = ${arenaViews.toString()};
parentPort.on('message', (m) => {
  const ctrl = new Int32Array(m.ctrl);
  let s;
  let chunk;
  if (m.wasm) {
    if (m.wasm.memory) {
      const { exports } = new WebAssembly.Instance(m.wasm.module, { env: { memory: m.wasm.memory } });
      arena = { exports, memory: m.wasm.memory };
    }
    const header = m.wasm.header;
    const { exports, memory } = arena;
    // memory.buffer, not a kept view: the arena may have grown since.
    s = arenaViews(memory.buffer, header);
    chunk = m.wasm.kernel === 'wasm' ? (c) => exports.chunk(header, c) : (c) => kmeansChunk(s, c);
  } else {
    const f64 = (b) => new Float64Array(b);
    s = {
      n: m.n, d: m.d, k: m.k, chunkRows: m.chunkRows, nChunks: m.nChunks,
      data: new Float64Array(m.data, m.dataOffset, m.n * m.d),
      labels: new Int32Array(m.labels), upper: f64(m.upper), lowerAny: f64(m.lowerAny), lower: f64(m.lower),
      centers: f64(m.centers), half: f64(m.half), halfPair: f64(m.halfPair), otherShift: f64(m.otherShift),
      totalShift: f64(m.totalShift),
      partSums: f64(m.partSums), partCounts: f64(m.partCounts), partValue: f64(m.partValue),
      params: f64(m.params),
    };
    chunk = (c) => kmeansChunk(s, c);
  }
  let seen = m.gen;
  for (;;) {
    // No spinning: on a busy machine a spinning worker takes the CPU the
    // main thread needs to finish its chunks and start the next step.
    Atomics.wait(ctrl, 0, seen);
    seen = Atomics.load(ctrl, 0);
    if (s.params[0] === ${CMD_RELEASE}) {
      Atomics.add(ctrl, 4, 1);
      Atomics.notify(ctrl, 4);
      return;
    }
    for (let c = Atomics.add(ctrl, 1, 1); c < s.nChunks; c = Atomics.add(ctrl, 1, 1)) {
      try {
        chunk(c);
      } catch (err) {
        Atomics.store(ctrl, 3, 1);
      }
      if (Atomics.add(ctrl, 2, 1) + 1 === s.nChunks) Atomics.notify(ctrl, 2);
    }
  }
});
`;
}
