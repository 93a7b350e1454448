/**
 * The one error `src/ml` throws for bad input, and the checks that throw it.
 * It carries no record location because the numeric core only knows rows and
 * columns; callers that know which customer a row is map it to a `UserError`.
 */
export class MlInputError extends Error {
  readonly code = 'ML_INPUT';

  constructor(message: string) {
    super(message);
    this.name = 'MlInputError';
  }
}

/** Integer in [min, max]; `name` is what the message calls it. */
export function assertInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new MlInputError(`${name} must be an integer ${range}, got ${String(value)}`);
  }
}

/**
 * An n×d row-major matrix of finite numbers. Rows and columns in the message
 * are 0-based, matching the indices the caller used to build the array.
 */
export function assertMatrix(data: Float64Array, n: number, d: number, what = 'data'): void {
  if (!(data instanceof Float64Array)) {
    throw new MlInputError(`${what} must be a Float64Array (row-major, n*d values)`);
  }
  assertInt('n', n, 0);
  assertInt('d', d, 1);
  if (data.length !== n * d) {
    throw new MlInputError(`${what} has ${data.length} values but n*d = ${n}*${d} = ${n * d}`);
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // `v - v` is NaN for NaN and ±Infinity: one test instead of isFinite per cell.
    if (v - v !== 0) {
      const row = Math.floor(i / d);
      throw new MlInputError(`${what} has a non-finite value (${String(v)}) at row ${row}, column ${i - row * d}`);
    }
  }
}
