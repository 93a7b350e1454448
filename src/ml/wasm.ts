/**
 * The WebAssembly module of the hot numeric kernels (asm/*.ts, 128-bit SIMD,
 * over an imported shared memory so worker threads can run it on the same
 * state), compiled once per process. Where the runtime lacks WebAssembly
 * SIMD or shared memory, `mlArena` gives nothing and callers use their JavaScript
 * kernels, which the tests hold the WebAssembly ones to.
 */
import { ML_WASM_BASE64 } from './ml-wasm-binary.js';

// The project's TypeScript lib has no WebAssembly types: only what is used here.
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
export interface WasmModule {
  readonly kind?: never;
}
export interface MlWasmExports {
  chunk(header: number, c: number): void;
  silhouetteRow(xi: number, xT: number, m: number, d: number, j0: number, j1: number, acc: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { readonly exports: MlWasmExports };
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
};

const PAGE = 65536;
/** 4 GiB: the most a 32-bit WebAssembly memory addresses. */
const MAX_PAGES = 65536;

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this runtime cannot run it. */
export function mlWasmModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(ML_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export interface MlArena {
  module: WasmModule;
  memory: WasmMemory;
  exports: MlWasmExports;
  /** Changes when `memory` is a new object (workers must be sent it), not when it grows. */
  generation: number;
}

let arena: MlArena | undefined;
let generations = 0;

/**
 * The process's one grow-only shared memory for the WebAssembly kernels
 * (k-means, whose worker threads share it, and the silhouette), at least
 * `bytes` long; undefined where the module cannot run or the memory cannot
 * be had.
 *
 * Why one: a worker keeps every shared memory it was sent until its own
 * garbage collector runs, and an idle worker never collects, so a fresh
 * memory per k-means fit piled up (300,000 x 12: +34 MB per fit, seen
 * growing past 1.3 GB over 40 fits). Reused, the memory holds the largest
 * fit so far, once. Callers must not hold on to views into it across calls.
 */
export function mlArena(bytes: number): MlArena | undefined {
  const module = mlWasmModule();
  if (module === null) return undefined;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (pages > MAX_PAGES) return undefined;
  if (arena !== undefined) {
    const have = arena.memory.buffer.byteLength / PAGE;
    if (have >= pages) return arena;
    try {
      arena.memory.grow(pages - have);
      return arena;
    } catch {
      // Reserved smaller than asked for: a new memory replaces it below.
    }
  }
  let memory: WasmMemory | undefined;
  // Reserving the 4 GiB a memory may grow to is only address space; where
  // even that is refused, a memory of just this size still does.
  for (const maximum of [MAX_PAGES, pages]) {
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum, shared: true });
      break;
    } catch {
      // next size
    }
  }
  if (memory === undefined) return undefined;
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  arena = { module, memory, exports, generation: ++generations };
  return arena;
}

/**
 * Byte offsets for arrays laid out one after another from `start`, each
 * 16-byte aligned (SIMD loads), and the end of the last.
 */
export function layout(start: number, byteLengths: readonly number[]): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let end = start;
  for (const len of byteLengths) {
    offsets.push(end);
    end += Math.ceil(len / 16) * 16;
  }
  return { offsets, end };
}
