/**
 * The WebAssembly k-means kernel (asm/kmeans.ts, 128-bit SIMD): the chunk
 * state is laid out in one shared WebAssembly memory, the JavaScript side
 * (kmeans.ts) reads and writes it through typed-array views exactly as it
 * does the JavaScript kernel's state, and worker threads instantiate the same
 * module over the same memory.
 *
 * Compiled once per process. Where WebAssembly SIMD or shared memory is
 * missing, or the state does not fit in 4 GiB, callers fall back to the
 * JavaScript kernel.
 */
import { PARAMS, type KState } from './kmeans-kernel.js';
import { layout, mlWasm, type WasmMemory, type WasmModule } from './wasm.js';

export interface WasmKernel {
  state: KState;
  /** Posted to workers, which instantiate `module` over `memory`. */
  module: WasmModule;
  memory: WasmMemory;
  /** Byte offset of the layout header the kernel reads. */
  header: number;
  paramsOffset: number;
  chunk: (c: number) => void;
}

/** Header: 19 u32 slots (asm/kmeans.ts), padded. */
const HEADER_BYTES = 128;

/**
 * The state of `kmeans` for this data in WebAssembly memory, data copied in,
 * or undefined when the WebAssembly kernel cannot take it.
 */
export function wasmKernel(data: Float64Array, n: number, d: number, k: number, nChunks: number, chunkRows: number, elkan: boolean): WasmKernel | undefined {
  // Sizes in elements, in header slot order from 4 on; 8-byte elements except labels.
  const lengths: [string, number, 4 | 8][] = [
    ['data', n * d, 8],
    ['labels', n, 4],
    ['upper', n, 8],
    ['lowerAny', elkan ? 0 : n, 8],
    ['lower', elkan ? n * k : 0, 8],
    ['centers', k * d, 8],
    ['half', k, 8],
    ['halfPair', k * k, 8],
    ['otherShift', k, 8],
    ['totalShift', k, 8],
    ['partSums', nChunks * k * d, 8],
    ['partCounts', nChunks * k, 8],
    ['partValue', nChunks, 8],
    ['params', PARAMS, 8],
    // Per chunk: the centres transposed (d × k padded to 4 or a multiple of 8) and 8 distances.
    ['scratch', nChunks * (d * (k <= 4 ? 4 : Math.ceil(k / 8) * 8) + 8), 8],
  ];
  const { offsets, end } = layout(HEADER_BYTES, lengths.map(([, len, size]) => len * size));
  const wasm = mlWasm(end);
  if (wasm === undefined) return undefined;
  const { module, memory } = wasm;
  const { buffer } = memory;
  const header = new Uint32Array(buffer, 0, 4 + lengths.length);
  header.set([n, d, k, chunkRows, ...offsets]);
  const at = (i: number): number => offsets[i]!;
  const f64 = (i: number): Float64Array => new Float64Array(buffer, at(i), lengths[i]![1]);
  const state: KState = {
    n,
    d,
    k,
    chunkRows,
    nChunks,
    data: f64(0),
    labels: new Int32Array(buffer, at(1), n),
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
  state.data.set(data);
  const { chunk } = wasm.exports;
  return { state, module, memory, header: 0, paramsOffset: at(13), chunk: (c) => chunk(0, c) };
}
