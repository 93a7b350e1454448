/**
 * One assignment function for every saved clustering model, so incremental
 * syncs label new or changed customers without retraining:
 * - k-means and hierarchical: nearest centroid;
 * - Gaussian mixture: highest posterior;
 * - DBSCAN: the nearest core point's cluster when within eps, else noise (-1).
 *
 * Every kind also yields a confidence in [0, 1] for the label it gives and a
 * Euclidean distance:
 * - centroid models: 1 − d₁/d₂ (nearest over second-nearest centroid
 *   distance): 1 on a centroid, 0 on the boundary between two clusters; 1
 *   when there is one cluster. Distance: to the nearest centroid.
 * - Gaussian mixture: the posterior probability of the component. Distance: to
 *   the component's mean.
 * - DBSCAN: for a cluster member 1 − dist/eps (1 on a core point, 0 at the eps
 *   boundary); for noise 1 − eps/dist (0 at the boundary, towards 1 far from
 *   every core point; 1 when the model has no core points). Distance: to the
 *   nearest core point (Infinity when there is none).
 */
import { MlInputError, assertMatrix } from './errors.js';
import { fromJSON as dbscanFromJSON, predict as dbscanPredict, type DBSCANCore, type DBSCANJSON } from './dbscan.js';
import { fromJSON as gmmFromJSON, predict as gmmPredict, type GMMJSON, type GMMParams } from './gmm.js';
import {
  fromJSON as hierarchicalFromJSON,
  type HierarchicalCentroids,
  type HierarchicalJSON,
} from './hierarchical.js';
import { fromJSON as kmeansFromJSON, type KMeansCentroids, type KMeansJSON } from './kmeans.js';

/** A saved model (its `toJSON` form, parsed) or a fitted one tagged with its kind. */
export type AssignableModel =
  | KMeansJSON
  | (KMeansCentroids & { kind: 'kmeans' })
  | GMMJSON
  | GMMParams
  | DBSCANJSON
  | DBSCANCore
  | HierarchicalJSON
  | HierarchicalCentroids;

/** A model ready for assignment, whatever form it came in. */
export type LoadedModel =
  | (KMeansCentroids & { kind: 'kmeans' })
  | GMMParams
  | DBSCANCore
  | HierarchicalCentroids;

export interface Assignment {
  /** Cluster of each row; -1 is DBSCAN noise. */
  labels: Int32Array;
  /** Confidence in that label, in [0, 1] (see the module comment per kind). */
  confidence: Float64Array;
  /** Euclidean distance to the centroid, mean or core point behind the label. */
  distances: Float64Array;
}

/**
 * Labels the n rows of `data` (n × model.d, row-major) with `model`. Throws
 * `MlInputError` for an unknown kind, a malformed model or bad data.
 */
export function assign(model: AssignableModel, data: Float64Array, n: number): Assignment {
  const m = loadModel(model);
  assertMatrix(data, n, m.d);
  switch (m.kind) {
    case 'kmeans':
      return nearestCentroids(m.centroids, m.k, m.d, data, n);
    case 'hierarchical':
      return nearestCentroids(m.centroids, m.k, m.d, data, n);
    case 'gmm': {
      const p = gmmPredict(m, data, n);
      return { labels: p.labels, confidence: p.confidence, distances: p.distances };
    }
    case 'dbscan': {
      const p = dbscanPredict(m, data, n);
      const confidence = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const dist = p.distances[i]!;
        if (p.labels[i]! >= 0) confidence[i] = 1 - dist / m.eps;
        else confidence[i] = dist === Infinity ? 1 : 1 - m.eps / dist;
      }
      return { labels: p.labels, confidence, distances: p.distances };
    }
  }
}

/**
 * Validates a model in either form and returns it with typed arrays; each
 * kind goes through its module's `fromJSON`, which lets typed arrays through
 * uncopied.
 */
export function loadModel(model: unknown): LoadedModel {
  if (typeof model !== 'object' || model === null) throw new MlInputError('model must be an object');
  const kind = (model as { kind?: unknown }).kind;
  switch (kind) {
    case 'kmeans': {
      const m = model as { k?: unknown; d?: unknown; centroids?: unknown };
      // k-means' fromJSON wants plain arrays; k×d centroids are cheap to copy.
      const json = m.centroids instanceof Float64Array ? { ...m, version: 1, centroids: Array.from(m.centroids) } : model;
      return { kind: 'kmeans', ...kmeansFromJSON(json) };
    }
    case 'gmm':
      return gmmFromJSON(withVersion(model));
    case 'dbscan':
      return dbscanFromJSON(withVersion(model));
    case 'hierarchical':
      return hierarchicalFromJSON(withVersion(model));
    default:
      throw new MlInputError(`cannot assign with a model of kind ${JSON.stringify(kind)}`);
  }
}

/** A fitted (in-memory) model has no version; it is the current one. */
function withVersion(model: object): object {
  return 'version' in model ? model : { ...model, version: 1 };
}

function nearestCentroids(centroids: Float64Array, k: number, d: number, data: Float64Array, n: number): Assignment {
  const labels = new Int32Array(n);
  const confidence = new Float64Array(n);
  const distances = new Float64Array(n);
  for (let i = 0, base = 0; i < n; i++, base += d) {
    let b1 = Infinity;
    let b2 = Infinity;
    let j1 = 0;
    for (let j = 0, cb = 0; j < k; j++, cb += d) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const g = data[base + t]! - centroids[cb + t]!;
        s += g * g;
      }
      if (s < b1) {
        b2 = b1;
        b1 = s;
        j1 = j;
      } else if (s < b2) {
        b2 = s;
      }
    }
    const d1 = Math.sqrt(b1);
    const d2 = Math.sqrt(b2);
    labels[i] = j1;
    distances[i] = d1;
    confidence[i] = k === 1 ? 1 : d2 === 0 ? 0 : 1 - d1 / d2;
  }
  return { labels, confidence, distances };
}
