/**
 * Worker threads for k-means, driven synchronously: the main thread posts the
 * shared state once per fit, then for each step bumps a generation word,
 * takes chunks itself from the same shared counter as the workers, and
 * blocks in Atomics.wait until every worker has reported. So `kmeans` stays
 * a plain function (no async up the call chain) and uses both cores.
 *
 * Which thread takes which chunk does not matter: chunks write only their
 * own slots and the caller reduces them in chunk order.
 *
 * The workers are created on first use, kept for later fits and unref'd, so
 * they never hold the process open.
 */
import { Worker } from 'node:worker_threads';
import { CMD_RELEASE, kmeansChunk, workerSource, type KState } from './kmeans-kernel.js';
import type { ArenaState } from './kmeans-wasm.js';

const CTRL_GEN = 0;
const CTRL_NEXT = 1;
const CTRL_DONE = 2;
const CTRL_ERROR = 3;
const CTRL_RELEASED = 4;

let workers: Worker[] = [];
let source: string | undefined;
/** Which arena generation each worker holds an instance over. */
const sentArena = new WeakMap<Worker, number>();

function ensureWorkers(count: number): Worker[] {
  source ??= workerSource();
  while (workers.length < count) {
    const w = new Worker(source, { eval: true });
    w.unref();
    // A worker that dies is dropped; the next fit starts a fresh one.
    w.on('error', () => undefined);
    w.on('exit', () => {
      workers = workers.filter((x) => x !== w);
    });
    workers.push(w);
  }
  return workers.slice(0, count);
}

/** Runs `kmeansChunk` over every chunk of `s` on the calling thread and `helpers` workers. */
export interface ChunkRunner {
  run(): void;
  close(): void;
}

/** `wasm`: run the WebAssembly kernel over the arena state `s` lives in. */
export function serialRunner(s: KState, wasm?: ArenaState): ChunkRunner {
  return {
    run() {
      if (wasm) for (let c = 0; c < s.nChunks; c++) wasm.wasmChunk(c);
      else for (let c = 0; c < s.nChunks; c++) kmeansChunk(s, c);
    },
    close() {},
  };
}

/**
 * `s` must live in the arena of `placed` (either kernel), or without it in
 * SharedArrayBuffers of its own (data included; the JavaScript kernel).
 */
export function poolRunner(s: KState, helpers: number, placed: ArenaState | undefined, kernel: 'wasm' | 'js'): ChunkRunner {
  const team = ensureWorkers(helpers);
  const ctrl = new Int32Array(new SharedArrayBuffer(32));
  const buf = (a: Float64Array | Int32Array): ArrayBufferLike => a.buffer;
  const chunk = placed && kernel === 'wasm' ? placed.wasmChunk : (c: number): void => kmeansChunk(s, c);
  for (const w of team) {
    if (placed) {
      // The arena goes to a worker once; later fits only say where their state is.
      const { arena } = placed;
      const fresh = sentArena.get(w) !== arena.generation;
      sentArena.set(w, arena.generation);
      const where = { header: placed.header, kernel };
      w.postMessage({ ctrl: ctrl.buffer, gen: 0, nChunks: s.nChunks, wasm: fresh ? { ...where, module: arena.module, memory: arena.memory } : where });
      continue;
    }
    w.postMessage({
      ctrl: ctrl.buffer,
      gen: 0,
      n: s.n,
      d: s.d,
      k: s.k,
      chunkRows: s.chunkRows,
      nChunks: s.nChunks,
      data: buf(s.data),
      dataOffset: s.data.byteOffset,
      labels: buf(s.labels),
      upper: buf(s.upper),
      lowerAny: buf(s.lowerAny),
      lower: buf(s.lower),
      centers: buf(s.centers),
      half: buf(s.half),
      halfPair: buf(s.halfPair),
      totalShift: buf(s.totalShift),
      otherShift: buf(s.otherShift),
      partSums: buf(s.partSums),
      partCounts: buf(s.partCounts),
      partValue: buf(s.partValue),
      params: buf(s.params),
    });
  }
  const step = (): void => {
    Atomics.store(ctrl, CTRL_DONE, 0);
    Atomics.store(ctrl, CTRL_NEXT, 0);
    Atomics.add(ctrl, CTRL_GEN, 1);
    Atomics.notify(ctrl, CTRL_GEN);
    for (let c = Atomics.add(ctrl, CTRL_NEXT, 1); c < s.nChunks; c = Atomics.add(ctrl, CTRL_NEXT, 1)) {
      chunk(c);
      Atomics.add(ctrl, CTRL_DONE, 1);
    }
    // Only chunks a worker has taken are left: milliseconds each. A minute
    // without progress means a worker died, not that it is slow.
    awaitCount(ctrl, CTRL_DONE, s.nChunks, 'a k-means worker thread stopped responding');
    if (Atomics.load(ctrl, CTRL_ERROR) !== 0) throw new Error('a k-means worker thread failed');
  };
  return {
    run: step,
    close() {
      s.params[0] = CMD_RELEASE;
      Atomics.add(ctrl, CTRL_GEN, 1);
      Atomics.notify(ctrl, CTRL_GEN);
      // Each worker must be back in its event loop before the next fit posts to it.
      awaitCount(ctrl, CTRL_RELEASED, team.length, 'a k-means worker thread did not stop');
    },
  };
}

function awaitCount(ctrl: Int32Array, slot: number, target: number, message: string): void {
  let idle = 0;
  for (;;) {
    const v = Atomics.load(ctrl, slot);
    if (v >= target) return;
    if (Atomics.wait(ctrl, slot, v, 1000) === 'timed-out' && ++idle >= 60) throw new Error(message);
  }
}
