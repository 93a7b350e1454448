/**
 * Stability of a clustering under resampling: would the segments stay put if
 * the customers had been a slightly different draw?
 *
 * A seeded share of the rows is held out (the validation rows, or rows the
 * caller names). A reference model is fitted on the remaining training rows;
 * then, for each round, a model is fitted on a resample of the training rows —
 * a bootstrap sample (same size, with replacement) or a subsample (a fraction,
 * without) — and both models label the held-out rows. The adjusted Rand index
 * between the two labellings is the round's score: 1 when the resample gives
 * the same partition of the held-out rows, about 0 when it is unrelated.
 * DBSCAN noise (-1) counts as one more label.
 */
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { assign, type AssignableModel } from './assign.js';
import { adjustedRandIndex, type Labels } from './metrics.js';
import { createRng, sampleIndices } from './random.js';

/** Labels rows (m × d, row-major) with a fitted model. */
export type Labeler = (rows: Float64Array, m: number) => Labels;

/**
 * Fits a clustering to n rows (n × d) with the given seed, returning a model
 * `assign` accepts or a function that labels new rows.
 */
export type ClusterFit = (data: Float64Array, n: number, d: number, seed: number) => AssignableModel | Labeler;

export interface StabilityOptions {
  /** `bootstrap`: n draws with replacement; `subsample`: `fraction` of rows without. */
  method: 'bootstrap' | 'subsample';
  /** Resampled fits compared with the reference. */
  rounds: number;
  /** Share of training rows in each subsample (method `subsample`), in (0, 1]. */
  fraction: number;
  /**
   * Held-out rows: a share of all rows in (0, 1) drawn with `seed`, or the
   * row indices themselves (the validation split).
   */
  holdout: number | Int32Array;
  /** Seed of the holdout draw, the resamples and the fits. */
  seed: number;
}

export const stabilityDefaults: Readonly<StabilityOptions> = Object.freeze({
  method: 'bootstrap',
  rounds: 10,
  fraction: 0.8,
  holdout: 0.2,
  seed: 42,
});

export interface StabilityResult {
  /** Mean adjusted Rand index over the rounds. */
  mean: number;
  /** Lowest round score. */
  min: number;
  /** Score of each round. */
  scores: Float64Array;
  /** The held-out rows, ascending. */
  holdout: Int32Array;
}

/**
 * Resampling stability of `fit` on the n rows of `data` (n×d, row-major).
 * The reference fit uses `seed` itself, round r a seed drawn from it.
 */
export function stability(
  data: Float64Array,
  n: number,
  d: number,
  fit: ClusterFit,
  opts: Partial<StabilityOptions> = {},
): StabilityResult {
  assertMatrix(data, n, d);
  if (typeof fit !== 'function') throw new MlInputError('fit must be a function (data, n, d, seed) => model');
  const o = resolveOptions(opts);
  const rng = createRng(o.seed);

  const holdout = holdoutRows(n, o.holdout, rng);
  const inHoldout = new Uint8Array(n);
  for (const i of holdout) inHoldout[i] = 1;
  const train = new Int32Array(n - holdout.length);
  for (let i = 0, w = 0; i < n; i++) if (inHoldout[i] === 0) train[w++] = i;
  if (train.length < 2) throw new MlInputError(`stability needs at least 2 training rows, got ${train.length}`);
  const held = gather(data, d, holdout);
  const m = holdout.length;

  const reference = labelsOf(fit(gather(data, d, train), train.length, d, o.seed), held, m, 'reference');
  const scores = new Float64Array(o.rounds);
  for (let r = 0; r < o.rounds; r++) {
    const size = o.method === 'bootstrap' ? train.length : Math.max(2, Math.round(o.fraction * train.length));
    const rows = new Int32Array(size);
    if (o.method === 'bootstrap') {
      for (let s = 0; s < size; s++) rows[s] = train[rng.int(train.length)]!;
    } else {
      const pick = sampleIndices(train.length, size, rng).sort();
      for (let s = 0; s < size; s++) rows[s] = train[pick[s]!]!;
    }
    const seed = rng.int(2 ** 31);
    const labels = labelsOf(fit(gather(data, d, rows), size, d, seed), held, m, `round ${r}`);
    scores[r] = adjustedRandIndex(reference, labels);
  }

  let sum = 0;
  let min = Infinity;
  for (const s of scores) {
    sum += s;
    if (s < min) min = s;
  }
  return { mean: sum / o.rounds, min, scores, holdout };
}

// ---------------------------------------------------------------------------

function holdoutRows(n: number, holdout: number | Int32Array, rng: ReturnType<typeof createRng>): Int32Array {
  if (holdout instanceof Int32Array) {
    const rows = holdout.slice().sort();
    for (let s = 0; s < rows.length; s++) {
      const i = rows[s]!;
      if (i < 0 || i >= n) throw new MlInputError(`holdout row ${i} is outside [0, ${n})`);
      if (s > 0 && rows[s - 1] === i) throw new MlInputError(`holdout row ${i} is listed twice`);
    }
    if (rows.length < 2) throw new MlInputError('holdout needs at least 2 rows');
    return rows;
  }
  const m = Math.round(holdout * n);
  if (m < 2) throw new MlInputError(`holdout ${holdout} of ${n} rows leaves fewer than 2 held-out rows`);
  return sampleIndices(n, m, rng).sort();
}

function gather(data: Float64Array, d: number, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let s = 0; s < rows.length; s++) out.set(data.subarray(rows[s]! * d, rows[s]! * d + d), s * d);
  return out;
}

function labelsOf(fitted: AssignableModel | Labeler, rows: Float64Array, m: number, what: string): Labels {
  const labels = typeof fitted === 'function' ? fitted(rows, m) : assign(fitted, rows, m).labels;
  if (labels.length !== m) throw new MlInputError(`the ${what} fit labelled ${labels.length} rows, expected ${m}`);
  return labels;
}

function resolveOptions(opts: Partial<StabilityOptions>): StabilityOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('stability options must be an object');
  const o: StabilityOptions = {
    method: opts.method ?? stabilityDefaults.method,
    rounds: opts.rounds ?? stabilityDefaults.rounds,
    fraction: opts.fraction ?? stabilityDefaults.fraction,
    holdout: opts.holdout ?? stabilityDefaults.holdout,
    seed: opts.seed ?? stabilityDefaults.seed,
  };
  if (o.method !== 'bootstrap' && o.method !== 'subsample') {
    throw new MlInputError(`method must be 'bootstrap' or 'subsample', got ${String(o.method)}`);
  }
  assertInt('rounds', o.rounds, 1);
  if (typeof o.fraction !== 'number' || !(o.fraction > 0 && o.fraction <= 1)) {
    throw new MlInputError(`fraction must be a number in (0, 1], got ${String(o.fraction)}`);
  }
  if (!(o.holdout instanceof Int32Array) && (typeof o.holdout !== 'number' || !(o.holdout > 0 && o.holdout < 1))) {
    throw new MlInputError(`holdout must be a share in (0, 1) or an Int32Array of rows, got ${String(o.holdout)}`);
  }
  assertInt('seed', o.seed, Number.MIN_SAFE_INTEGER);
  return o;
}
