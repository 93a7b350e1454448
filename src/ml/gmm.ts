/**
 * Gaussian mixture fitted by expectation-maximisation, following
 * scikit-learn's GaussianMixture: k-means initialisation (one k-means run per
 * initialisation, its labels as hard responsibilities), `regCovar` added to
 * every covariance diagonal, component weights n_k / n with n_k padded by
 * 10·ε, convergence when the mean log-likelihood (the "lower bound") changes
 * by less than `tol`, best of `nInit` runs by that bound, and a final E-step
 * so labels agree with the returned parameters.
 *
 * Densities are evaluated through each covariance's Cholesky factor and
 * combined with log-sum-exp, so far-away rows do not underflow to 0/0.
 * The posterior of a row's component is its membership confidence.
 */
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { float64Field, jsonHeader, numberField } from './json.js';
import { kmeans } from './kmeans.js';
import { createRng } from './random.js';

export type CovarianceType = 'full' | 'diag';

export interface GMMOptions {
  /** `full`: one d×d covariance per component; `diag`: d variances. */
  covarianceType: CovarianceType;
  /** Added to covariance diagonals so they stay positive definite. */
  regCovar: number;
  /** Convergence threshold on the change of the mean log-likelihood. */
  tol: number;
  maxIter: number;
  /** Independent initialisations; the highest final lower bound wins. */
  nInit: number;
  /** Seed for the k-means initialisations. */
  seed: number;
}

export const gmmDefaults: Readonly<GMMOptions> = Object.freeze({
  covarianceType: 'full',
  regCovar: 1e-6,
  tol: 1e-3,
  maxIter: 100,
  nInit: 1,
  seed: 42,
});

/** The mixture itself: what prediction needs, and all that the JSON form keeps. */
export interface GMMParams {
  kind: 'gmm';
  k: number;
  d: number;
  covarianceType: CovarianceType;
  /** k mixing weights, summing to 1. */
  weights: Float64Array;
  /** k*d, row-major. */
  means: Float64Array;
  /** full: k*d*d (component-major, row-major d×d); diag: k*d variances. */
  covariances: Float64Array;
}

export interface GMMModel extends GMMParams {
  /** Most probable component of each training row. */
  labels: Int32Array;
  /** Mean log-likelihood per row at the start of the last iteration (scikit-learn's lower_bound_). */
  lowerBound: number;
  /** That bound at each iteration of the winning run. */
  lowerBounds: Float64Array;
  /** Total log-likelihood of the training rows under the returned parameters. */
  logLikelihood: number;
  /** -2·logLikelihood + parameters·ln(n), on the training rows. */
  bic: number;
  /** -2·logLikelihood + 2·parameters, on the training rows. */
  aic: number;
  iterations: number;
  converged: boolean;
}

export interface GMMPrediction {
  /** Component with the highest posterior. */
  labels: Int32Array;
  /** That posterior probability, in [1/k, 1]. */
  confidence: Float64Array;
  /** Euclidean distance to that component's mean. */
  distances: Float64Array;
}

export interface GMMJSON {
  kind: 'gmm';
  version: 1;
  k: number;
  d: number;
  covarianceType: CovarianceType;
  weights: number[];
  means: number[];
  covariances: number[];
}

/**
 * Fits a k-component mixture to the n rows of `data` (n×d, row-major). Throws
 * `MlInputError` for a bad shape, a non-finite value, k outside [1, n], a bad
 * option, or a covariance that is not positive definite even with regCovar.
 */
export function gmm(data: Float64Array, n: number, d: number, k: number, opts: Partial<GMMOptions> = {}): GMMModel {
  assertMatrix(data, n, d);
  if (n === 0) throw new MlInputError('a Gaussian mixture needs at least one row');
  assertInt('k', k, 1, n);
  const o = resolveOptions(opts);
  const rng = createRng(o.seed);
  const resp = new Float64Array(n * k);
  const scratch = new Float64Array(d);

  let best: { params: GMMParams; lowerBound: number; history: number[]; iterations: number; converged: boolean } | undefined;
  for (let run = 0; run < o.nInit; run++) {
    const km = kmeans(data, n, d, k, { seed: rng.int(2 ** 31), nInit: 1 });
    resp.fill(0);
    for (let i = 0; i < n; i++) resp[i * k + km.labels[i]!] = 1;
    let params = mStep(data, n, d, k, resp, o);
    let lowerBound = -Infinity;
    const history: number[] = [];
    let converged = false;
    let iterations = 0;
    for (let iter = 1; iter <= o.maxIter; iter++) {
      const prev = lowerBound;
      lowerBound = eStep(prepare(params), data, n, resp, scratch);
      params = mStep(data, n, d, k, resp, o);
      history.push(lowerBound);
      iterations = iter;
      if (Math.abs(lowerBound - prev) < o.tol) {
        converged = true;
        break;
      }
    }
    if (best === undefined || lowerBound > best.lowerBound) {
      best = { params, lowerBound, history, iterations, converged };
    }
  }

  const { params } = best!;
  const meanLL = eStep(prepare(params), data, n, resp, scratch);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = argmax(resp, i * k, k);
  const logLikelihood = meanLL * n;
  const p = nParameters(params);
  return {
    ...params,
    labels,
    lowerBound: best!.lowerBound,
    lowerBounds: Float64Array.from(best!.history),
    logLikelihood,
    bic: -2 * logLikelihood + p * Math.log(n),
    aic: -2 * logLikelihood + 2 * p,
    iterations: best!.iterations,
    converged: best!.converged,
  };
}

/** Posterior probability of each component for each row: n×k, row-major. */
export function predictProba(model: GMMParams, data: Float64Array, n: number): Float64Array {
  const prepared = prepare(checked(model));
  assertMatrix(data, n, model.d);
  const resp = new Float64Array(n * model.k);
  eStep(prepared, data, n, resp, new Float64Array(model.d));
  return resp;
}

/** Most probable component of each row, with its posterior and distance to its mean. */
export function predict(model: GMMParams, data: Float64Array, n: number): GMMPrediction {
  const resp = predictProba(model, data, n);
  const { k, d, means } = model;
  const labels = new Int32Array(n);
  const confidence = new Float64Array(n);
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = argmax(resp, i * k, k);
    labels[i] = c;
    confidence[i] = resp[i * k + c]!;
    let s = 0;
    for (let t = 0; t < d; t++) s += (data[i * d + t]! - means[c * d + t]!) ** 2;
    distances[i] = Math.sqrt(s);
  }
  return { labels, confidence, distances };
}

/** Mean log-likelihood per row (scikit-learn's `score`). */
export function score(model: GMMParams, data: Float64Array, n: number): number {
  const prepared = prepare(checked(model));
  assertMatrix(data, n, model.d);
  if (n === 0) throw new MlInputError('score needs at least one row');
  return eStep(prepared, data, n, new Float64Array(n * model.k), new Float64Array(model.d));
}

/** Bayesian information criterion on these rows; lower is better. */
export function bic(model: GMMParams, data: Float64Array, n: number): number {
  return -2 * score(model, data, n) * n + nParameters(model) * Math.log(n);
}

/** Akaike information criterion on these rows; lower is better. */
export function aic(model: GMMParams, data: Float64Array, n: number): number {
  return -2 * score(model, data, n) * n + 2 * nParameters(model);
}

/** Free parameters: covariances, means and k − 1 weights. */
export function nParameters(model: Pick<GMMParams, 'k' | 'd' | 'covarianceType'>): number {
  const { k, d } = model;
  const cov = model.covarianceType === 'full' ? (k * d * (d + 1)) / 2 : k * d;
  return cov + k * d + k - 1;
}

export function toJSON(model: GMMParams): GMMJSON {
  checked(model);
  return {
    kind: 'gmm',
    version: 1,
    k: model.k,
    d: model.d,
    covarianceType: model.covarianceType,
    weights: Array.from(model.weights),
    means: Array.from(model.means),
    covariances: Array.from(model.covariances),
  };
}

/**
 * Accepts the parsed output of `toJSON` (typed arrays also pass); anything
 * else, including covariances that are not positive definite, is an
 * `MlInputError`.
 */
export function fromJSON(json: unknown): GMMParams {
  const j = jsonHeader(json, 'gmm', 'GMM');
  const model: GMMParams = {
    kind: 'gmm',
    k: numberField(j, 'k', 'GMM'),
    d: numberField(j, 'd', 'GMM'),
    covarianceType: j.covarianceType as CovarianceType,
    weights: float64Field(j.weights, 'GMM JSON weights'),
    means: float64Field(j.means, 'GMM JSON means'),
    covariances: float64Field(j.covariances, 'GMM JSON covariances'),
  };
  checked(model);
  prepare(model);
  return model;
}

// ---------------------------------------------------------------------------

const LOG_2PI = Math.log(2 * Math.PI);
const EPS = 2.220446049250313e-16;
const TINY = 1e-200;

/** Per-component constants for evaluating log densities. */
interface Prepared {
  k: number;
  d: number;
  full: boolean;
  means: Float64Array;
  /** log weight − ½(d·log 2π + log det Σ), per component. */
  offset: Float64Array;
  /** full: lower Cholesky factors (k*d*d) with the reciprocal diagonal stored on it; diag: 1/variance (k*d). */
  factor: Float64Array;
}

function prepare(p: GMMParams): Prepared {
  const { k, d, weights, means, covariances } = p;
  const full = p.covarianceType === 'full';
  const factor = new Float64Array(full ? k * d * d : k * d);
  const offset = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let logDet = 0;
    if (full) {
      const base = j * d * d;
      for (let r = 0; r < d; r++) {
        for (let c = 0; c <= r; c++) {
          let s = covariances[base + r * d + c]!;
          for (let q = 0; q < c; q++) s -= factor[base + r * d + q]! * factor[base + c * d + q]!;
          if (r === c) {
            if (!(s > 0)) throw illDefined(j);
            const l = Math.sqrt(s);
            logDet += 2 * Math.log(l);
            factor[base + r * d + r] = l;
          } else {
            factor[base + r * d + c] = s / factor[base + c * d + c]!;
          }
        }
      }
      // Reciprocal diagonal, for the forward substitutions.
      for (let r = 0; r < d; r++) factor[base + r * d + r] = 1 / factor[base + r * d + r]!;
    } else {
      for (let t = 0; t < d; t++) {
        const v = covariances[j * d + t]!;
        if (!(v > 0)) throw illDefined(j);
        logDet += Math.log(v);
        factor[j * d + t] = 1 / v;
      }
    }
    offset[j] = Math.log(weights[j]!) - 0.5 * (d * LOG_2PI + logDet);
  }
  return { k, d, full, means, offset, factor };
}

function illDefined(component: number): MlInputError {
  return new MlInputError(
    `Gaussian mixture component ${component} has an ill-defined covariance (not positive definite): ` +
      'increase regCovar, use fewer components, or scale the data',
  );
}

/**
 * Fills `resp` (n×k) with posteriors and returns the mean log-likelihood.
 * Component by component (its constants stay in registers), then row by row
 * for the log-sum-exp. `z` is d-long scratch.
 */
function eStep(p: Prepared, data: Float64Array, n: number, resp: Float64Array, z: Float64Array): number {
  const { k, d, full, means, offset, factor } = p;
  for (let j = 0; j < k; j++) {
    const mb = j * d;
    const fb = full ? j * d * d : j * d;
    const off = offset[j]!;
    for (let i = 0, base = 0, rb = j; i < n; i++, base += d, rb += k) {
      let maha = 0;
      if (full) {
        for (let r = 0, row = fb; r < d; r++, row += d) {
          let s = data[base + r]! - means[mb + r]!;
          for (let c = 0; c < r; c++) s -= factor[row + c]! * z[c]!;
          const v = s * factor[row + r]!;
          z[r] = v;
          maha += v * v;
        }
      } else {
        for (let t = 0; t < d; t++) {
          const g = data[base + t]! - means[mb + t]!;
          maha += g * g * factor[fb + t]!;
        }
      }
      resp[rb] = off - 0.5 * maha;
    }
  }
  let total = 0;
  for (let i = 0, rb = 0; i < n; i++, rb += k) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (resp[rb + j]! > max) max = resp[rb + j]!;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(resp[rb + j]! - max);
      resp[rb + j] = e;
      sum += e;
    }
    total += max + Math.log(sum);
    const inv = 1 / sum;
    for (let j = 0; j < k; j++) {
      // Posteriors below 1e-200 become 0: they change no sum, and products of
      // them would fall into subnormal numbers, which are 100x slower.
      const r = resp[rb + j]! * inv;
      resp[rb + j] = r < TINY ? 0 : r;
    }
  }
  return n === 0 ? 0 : total / n;
}

/**
 * Weights, means and covariances from responsibilities (scikit-learn's
 * M-step), one component at a time: its weighted mean, then its weighted
 * scatter about that mean.
 */
function mStep(data: Float64Array, n: number, d: number, k: number, resp: Float64Array, o: GMMOptions): GMMParams {
  const full = o.covarianceType === 'full';
  const nk = new Float64Array(k).fill(10 * EPS);
  const means = new Float64Array(k * d);
  const covariances = new Float64Array(full ? k * d * d : k * d);
  const g = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    const mb = j * d;
    let w = nk[j]!;
    for (let i = 0, base = 0, rb = j; i < n; i++, base += d, rb += k) {
      const r = resp[rb]!;
      if (r === 0) continue;
      w += r;
      for (let t = 0; t < d; t++) means[mb + t] = means[mb + t]! + r * data[base + t]!;
    }
    nk[j] = w;
    for (let t = 0; t < d; t++) means[mb + t] = means[mb + t]! / w;
    const cb = full ? j * d * d : j * d;
    for (let i = 0, base = 0, rb = j; i < n; i++, base += d, rb += k) {
      const r = resp[rb]!;
      if (r === 0) continue;
      for (let t = 0; t < d; t++) g[t] = data[base + t]! - means[mb + t]!;
      if (full) {
        for (let a = 0, row = cb; a < d; a++, row += d) {
          const ra = r * g[a]!;
          for (let b = 0; b <= a; b++) covariances[row + b] = covariances[row + b]! + ra * g[b]!;
        }
      } else {
        for (let t = 0; t < d; t++) covariances[cb + t] = covariances[cb + t]! + r * g[t]! * g[t]!;
      }
    }
  }
  let wsum = 0;
  for (let j = 0; j < k; j++) wsum += nk[j]!;
  const weights = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    weights[j] = nk[j]! / wsum;
    if (full) {
      const cb = j * d * d;
      for (let a = 0; a < d; a++) {
        for (let b = 0; b <= a; b++) {
          const v = covariances[cb + a * d + b]! / nk[j]! + (a === b ? o.regCovar : 0);
          covariances[cb + a * d + b] = v;
          covariances[cb + b * d + a] = v;
        }
      }
    } else {
      for (let t = 0; t < d; t++) covariances[j * d + t] = covariances[j * d + t]! / nk[j]! + o.regCovar;
    }
  }
  return { kind: 'gmm', k, d, covarianceType: o.covarianceType, weights, means, covariances };
}

function argmax(a: Float64Array, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[offset + j]! > a[offset + best]!) best = j;
  return best;
}

function resolveOptions(opts: Partial<GMMOptions>): GMMOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('GMM options must be an object');
  const o: GMMOptions = {
    covarianceType: opts.covarianceType ?? gmmDefaults.covarianceType,
    regCovar: opts.regCovar ?? gmmDefaults.regCovar,
    tol: opts.tol ?? gmmDefaults.tol,
    maxIter: opts.maxIter ?? gmmDefaults.maxIter,
    nInit: opts.nInit ?? gmmDefaults.nInit,
    seed: opts.seed ?? gmmDefaults.seed,
  };
  if (o.covarianceType !== 'full' && o.covarianceType !== 'diag') {
    throw new MlInputError(`covarianceType must be 'full' or 'diag', got ${String(o.covarianceType)}`);
  }
  for (const key of ['regCovar', 'tol'] as const) {
    const v = o[key];
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
      throw new MlInputError(`${key} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  assertInt('maxIter', o.maxIter, 1);
  assertInt('nInit', o.nInit, 1);
  assertInt('seed', o.seed, Number.MIN_SAFE_INTEGER);
  return o;
}

function checked(model: GMMParams): GMMParams {
  if (typeof model !== 'object' || model === null) throw new MlInputError('GMM model must be an object');
  assertInt('model.k', model.k, 1);
  assertInt('model.d', model.d, 1);
  const { k, d } = model;
  if (model.covarianceType !== 'full' && model.covarianceType !== 'diag') {
    throw new MlInputError(`model.covarianceType must be 'full' or 'diag', got ${String(model.covarianceType)}`);
  }
  assertMatrix(model.weights, 1, k, 'model.weights');
  assertMatrix(model.means, k, d, 'model.means');
  assertMatrix(model.covariances, k, model.covarianceType === 'full' ? d * d : d, 'model.covariances');
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const w = model.weights[j]!;
    if (!(w > 0)) throw new MlInputError(`model.weights[${j}] must be > 0, got ${w}`);
    sum += w;
  }
  if (Math.abs(sum - 1) > 1e-9) throw new MlInputError(`model.weights must sum to 1, got ${sum}`);
  return model;
}
