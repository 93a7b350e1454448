/**
 * The seeded train/validation split. The prep step is fitted on the training
 * rows, the candidate models too; the validation rows only score them, so the
 * scores say how the model does on customers it has not seen.
 */
import { createRng, sampleIndices } from '../ml/random.js';

export interface Split {
  /** row indices, ascending */
  train: Int32Array;
  validation: Int32Array;
}

/** Below this many rows a held-out share is too small to score: every row is used for both. */
export const MIN_SPLIT_ROWS = 200;

export function trainValidationSplit(n: number, validationShare: number, seed: number): Split {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n < MIN_SPLIT_ROWS) return { train: all, validation: all };
  const perm = sampleIndices(n, n, createRng(seed));
  const nVal = Math.max(50, Math.round(n * validationShare));
  return { validation: perm.slice(0, nVal).sort(), train: perm.slice(nVal).sort() };
}
