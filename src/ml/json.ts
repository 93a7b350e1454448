/**
 * Helpers for the models' `fromJSON`: numeric arrays arrive as plain arrays
 * (parsed JSON) or, for a model handed over in memory, as typed arrays.
 */
import { MlInputError } from './errors.js';

/** `value` as a Float64Array (typed arrays pass through uncopied), else an MlInputError naming `what`. */
export function float64Field(value: unknown, what: string): Float64Array {
  if (value instanceof Float64Array) return value;
  if (!Array.isArray(value) || !value.every((v): v is number => typeof v === 'number')) {
    throw new MlInputError(`${what} must be an array of numbers`);
  }
  return Float64Array.from(value);
}

/** `value` as an Int32Array of integers, else an MlInputError naming `what`. */
export function int32Field(value: unknown, what: string): Int32Array {
  if (value instanceof Int32Array) return value;
  if (!Array.isArray(value) || !value.every((v): v is number => Number.isInteger(v) && v === (v | 0))) {
    throw new MlInputError(`${what} must be an array of 32-bit integers`);
  }
  return Int32Array.from(value);
}

/** The object's `kind` and `version` checked; the object returned for field access. */
export function jsonHeader(json: unknown, kind: string, what: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null) throw new MlInputError(`${what} JSON must be an object`);
  const j = json as Record<string, unknown>;
  if (j.kind !== kind) {
    throw new MlInputError(`${what} JSON has kind ${JSON.stringify(j.kind)}, expected ${JSON.stringify(kind)}`);
  }
  if (j.version !== 1) throw new MlInputError(`${what} JSON version ${JSON.stringify(j.version)} is not supported`);
  return j;
}

/** A numeric field, else an MlInputError. */
export function numberField(j: Record<string, unknown>, key: string, what: string): number {
  const v = j[key];
  if (typeof v !== 'number') throw new MlInputError(`${what} JSON needs a numeric ${key}`);
  return v;
}
