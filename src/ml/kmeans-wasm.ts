/**
 * Where a k-means fit keeps its state: in the process's shared WebAssembly
 * memory (the arena of wasm.ts, reused by every fit), laid out as
 * asm/kmeans.ts expects. Both kernels run over it: the WebAssembly one
 * (128-bit SIMD) by header offset, the JavaScript one (kmeans-kernel.ts)
 * through typed-array views, which worker threads build from the same header.
 *
 * Undefined where the runtime lacks WebAssembly SIMD or shared memory, or the
 * state does not fit in 4 GiB: kmeans.ts then uses SharedArrayBuffers of its own.
 */
import { arenaLengths, arenaViews, PARAMS, type KState } from './kmeans-kernel.js';
import { layout, mlArena, type MlArena } from './wasm.js';

export interface ArenaState {
  state: KState;
  /** Posted to workers (its memory only when new to them), which instantiate its module over its memory. */
  arena: MlArena;
  /** Byte offset of the layout header. */
  header: number;
  /** The WebAssembly kernel's step for chunk c. */
  wasmChunk: (c: number) => void;
}

/** Header: 22 u32 slots (see arenaViews), padded. */
const HEADER_BYTES = 128;

/** The state of `kmeans` for this data in the arena, data copied in. */
export function placeInArena(data: Float64Array, n: number, d: number, k: number, nChunks: number, chunkRows: number, elkan: boolean): ArenaState | undefined {
  const lengths = arenaLengths(n, d, k, nChunks, elkan, PARAMS);
  // Per chunk: the centres transposed (d × k padded to 4 or a multiple of 8) and 8 distances.
  const scratch = nChunks * (d * (k <= 4 ? 4 : Math.ceil(k / 8) * 8) + 8) * 8;
  const { offsets, end } = layout(HEADER_BYTES, [...lengths.map(([len, size]) => len * size), scratch]);
  const arena = mlArena(end);
  if (arena === undefined) return undefined;
  const { buffer } = arena.memory;
  new Uint32Array(buffer, 0, 22).set([n, d, k, chunkRows, ...offsets, nChunks, elkan ? 1 : 0, PARAMS]);
  const state = arenaViews(buffer, 0);
  state.data.set(data);
  const { chunk } = arena.exports;
  return { state, arena, header: 0, wasmChunk: (c) => chunk(0, c) };
}
