/**
 * Principal component analysis on a row-major Float64Array, with scikit-learn's
 * PCA as the oracle: covariance with the n - 1 denominator, components sorted by
 * explained variance, and a float `n_components` meaning "keep the fewest
 * components whose cumulative explained-variance ratio exceeds this".
 *
 * The fit reads the data once: blocks of rows are centred on their own mean
 * and their scatter matrices merged with Chan's update, which keeps the
 * accuracy of a two-pass computation without a second trip through memory.
 * Only the d×d covariance is decomposed (ml-matrix's symmetric
 * EigenvalueDecomposition), so the cost beyond that pass does not grow with n.
 *
 * Signs follow scikit-learn >= 1.5 (`svd_flip(u_based_decision=False)`): each
 * component's largest-magnitude loading is positive, so the same data always
 * gives the same axes.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { MlInputError, assertInt, assertMatrix } from './errors.js';
import { float64Field, jsonHeader, numberField } from './json.js';

export interface PCAOptions {
  /**
   * Keep exactly this many components, in [1, min(n, d)]. When undefined the
   * count comes from `explainedVariance`.
   */
  nComponents: number | undefined;
  /**
   * In (0, 1]: keep the fewest leading components whose explained-variance
   * ratios sum to more than this (capped at min(n, d)); scikit-learn's float
   * `n_components`.
   */
  explainedVariance: number;
}

export const pcaDefaults: Readonly<PCAOptions> = Object.freeze({
  nComponents: undefined,
  explainedVariance: 0.9,
});

export interface PCAModel {
  kind: 'pca';
  /** Input dimension. */
  d: number;
  /** Components kept. */
  k: number;
  /** Column means of the training data (d). */
  mean: Float64Array;
  /** k*d, row-major: row j is the j-th principal axis, unit length. */
  components: Float64Array;
  /** Variance along each kept axis (covariance eigenvalues, n - 1 denominator). */
  explainedVariance: Float64Array;
  /** explainedVariance / total variance, for each kept axis. */
  explainedVarianceRatio: Float64Array;
  /** Trace of the covariance: the variance of all d axes together. */
  totalVariance: number;
}

export interface PCAJSON {
  kind: 'pca';
  version: 1;
  d: number;
  k: number;
  mean: number[];
  components: number[];
  explainedVariance: number[];
  explainedVarianceRatio: number[];
  totalVariance: number;
}

/**
 * Fits PCA to the n rows of `data` (n×d, row-major). Throws `MlInputError`
 * for a bad shape, a non-finite value, fewer than 2 rows or a bad option.
 */
export function pca(data: Float64Array, n: number, d: number, opts: Partial<PCAOptions> = {}): PCAModel {
  assertMatrix(data, n, d);
  if (n < 2) throw new MlInputError(`PCA needs at least 2 rows, got ${n}`);
  const o = resolveOptions(opts, n, d);

  const { mean, scatter } = meanAndScatter(data, n, d);
  const cov = new Matrix(d, d);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = scatter[a * d + b]! / (n - 1);
      cov.set(a, b, v);
      cov.set(b, a, v);
    }
  }
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  // Descending by eigenvalue; the index breaks ties so the order is fixed.
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => values[j]! - values[i]! || i - j);

  let total = 0;
  for (let a = 0; a < d; a++) total += cov.get(a, a);
  const maxComponents = Math.min(n, d);
  const variances = order.slice(0, maxComponents).map((i) => Math.max(0, values[i]!));
  const ratios = variances.map((v) => (total > 0 ? v / total : 0));

  let k: number;
  if (o.nComponents !== undefined) {
    k = o.nComponents;
  } else {
    // scikit-learn: searchsorted(cumsum, target, side="right") + 1.
    k = 1;
    let cum = ratios[0]!;
    while (k < maxComponents && cum <= o.explainedVariance) cum += ratios[k++]!;
  }

  const components = new Float64Array(k * d);
  for (let j = 0; j < k; j++) {
    const col = order[j]!;
    let norm = 0;
    let big = 0;
    let bigAbs = -1;
    for (let t = 0; t < d; t++) {
      const v = vectors.get(t, col);
      norm += v * v;
      if (Math.abs(v) > bigAbs) {
        bigAbs = Math.abs(v);
        big = v;
      }
    }
    const scale = (big < 0 ? -1 : 1) / Math.sqrt(norm);
    for (let t = 0; t < d; t++) components[j * d + t] = vectors.get(t, col) * scale;
  }

  return {
    kind: 'pca',
    d,
    k,
    mean,
    components,
    explainedVariance: Float64Array.from(variances.slice(0, k)),
    explainedVarianceRatio: Float64Array.from(ratios.slice(0, k)),
    totalVariance: total,
  };
}

/** Projects the n rows of `data` (n × model.d) onto the kept axes: n × model.k. */
export function transform(model: PCAModel, data: Float64Array, n: number): Float64Array {
  assertModel(model);
  const { d, k, mean, components } = model;
  assertMatrix(data, n, d);
  const out = new Float64Array(n * k);
  const row = new Float64Array(d);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    for (let t = 0; t < d; t++) row[t] = data[base + t]! - mean[t]!;
    for (let j = 0, cb = 0; j < k; j++, cb += d) {
      let s = 0;
      for (let t = 0; t < d; t++) s += row[t]! * components[cb + t]!;
      out[i * k + j] = s;
    }
  }
  return out;
}

/** Maps n projected rows (n × model.k) back to the input space (n × model.d). */
export function inverseTransform(model: PCAModel, projected: Float64Array, n: number): Float64Array {
  assertModel(model);
  const { d, k, mean, components } = model;
  assertMatrix(projected, n, k, 'projected');
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const ob = i * d;
    out.set(mean, ob);
    for (let j = 0; j < k; j++) {
      const c = projected[i * k + j]!;
      for (let t = 0; t < d; t++) out[ob + t] = out[ob + t]! + c * components[j * d + t]!;
    }
  }
  return out;
}

export function toJSON(model: PCAModel): PCAJSON {
  assertModel(model);
  return {
    kind: 'pca',
    version: 1,
    d: model.d,
    k: model.k,
    mean: Array.from(model.mean),
    components: Array.from(model.components),
    explainedVariance: Array.from(model.explainedVariance),
    explainedVarianceRatio: Array.from(model.explainedVarianceRatio),
    totalVariance: model.totalVariance,
  };
}

/**
 * Accepts the parsed output of `toJSON` (typed arrays also pass); anything
 * else is an `MlInputError`.
 */
export function fromJSON(json: unknown): PCAModel {
  const j = jsonHeader(json, 'pca', 'PCA');
  const model: PCAModel = {
    kind: 'pca',
    d: numberField(j, 'd', 'PCA'),
    k: numberField(j, 'k', 'PCA'),
    mean: float64Field(j.mean, 'PCA JSON mean'),
    components: float64Field(j.components, 'PCA JSON components'),
    explainedVariance: float64Field(j.explainedVariance, 'PCA JSON explainedVariance'),
    explainedVarianceRatio: float64Field(j.explainedVarianceRatio, 'PCA JSON explainedVarianceRatio'),
    totalVariance: numberField(j, 'totalVariance', 'PCA'),
  };
  assertModel(model);
  return model;
}

// ---------------------------------------------------------------------------

/** Rows per block: a block's rows and scatter stay in cache while it is centred. */
const BLOCK = 2048;

/**
 * Column means and the scatter matrix Σ (x - mean)(x - mean)ᵀ (upper triangle,
 * row-major d×d) in one pass: each block is centred on its own mean, then
 * merged (Chan, Golub & LeVeque), so no large mean is ever subtracted from a
 * large sum of squares.
 */
function meanAndScatter(data: Float64Array, n: number, d: number): { mean: Float64Array; scatter: Float64Array } {
  const mean = new Float64Array(d);
  const scatter = new Float64Array(d * d);
  const bMean = new Float64Array(d);
  const bScatter = new Float64Array(d * d);
  const row = new Float64Array(d);
  const delta = new Float64Array(d);
  let count = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    const nb = end - start;
    bMean.fill(0);
    for (let i = start, base = start * d; i < end; i++, base += d) {
      for (let t = 0; t < d; t++) bMean[t] = bMean[t]! + data[base + t]!;
    }
    for (let t = 0; t < d; t++) bMean[t] = bMean[t]! / nb;
    bScatter.fill(0);
    for (let i = start, base = start * d; i < end; i++, base += d) {
      for (let t = 0; t < d; t++) row[t] = data[base + t]! - bMean[t]!;
      for (let a = 0; a < d; a++) {
        const ra = row[a]!;
        const ab = a * d;
        for (let b = a; b < d; b++) bScatter[ab + b] = bScatter[ab + b]! + ra * row[b]!;
      }
    }
    const total = count + nb;
    const f = (count * nb) / total;
    for (let t = 0; t < d; t++) delta[t] = bMean[t]! - mean[t]!;
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        scatter[a * d + b] = scatter[a * d + b]! + bScatter[a * d + b]! + delta[a]! * delta[b]! * f;
      }
    }
    for (let t = 0; t < d; t++) mean[t] = mean[t]! + (delta[t]! * nb) / total;
    count = total;
  }
  return { mean, scatter };
}

function resolveOptions(opts: Partial<PCAOptions>, n: number, d: number): PCAOptions {
  if (typeof opts !== 'object' || opts === null) throw new MlInputError('PCA options must be an object');
  const o: PCAOptions = {
    nComponents: opts.nComponents ?? pcaDefaults.nComponents,
    explainedVariance: opts.explainedVariance ?? pcaDefaults.explainedVariance,
  };
  if (o.nComponents !== undefined) assertInt('nComponents', o.nComponents, 1, Math.min(n, d));
  const ev = o.explainedVariance;
  if (typeof ev !== 'number' || !(ev > 0 && ev <= 1)) {
    throw new MlInputError(`explainedVariance must be a number in (0, 1], got ${String(ev)}`);
  }
  return o;
}

function assertModel(model: PCAModel): void {
  if (typeof model !== 'object' || model === null) throw new MlInputError('PCA model must be an object');
  assertInt('model.d', model.d, 1);
  assertInt('model.k', model.k, 1, model.d);
  assertMatrix(model.mean, 1, model.d, 'model.mean');
  assertMatrix(model.components, model.k, model.d, 'model.components');
  assertMatrix(model.explainedVariance, 1, model.k, 'model.explainedVariance');
  assertMatrix(model.explainedVarianceRatio, 1, model.k, 'model.explainedVarianceRatio');
  if (!Number.isFinite(model.totalVariance) || model.totalVariance < 0) {
    throw new MlInputError(`model.totalVariance must be a finite number >= 0, got ${String(model.totalVariance)}`);
  }
}
