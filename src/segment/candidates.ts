/**
 * Fitting the candidate models of each algorithm over its parameter range, on
 * the training rows. Each candidate carries its model in a form `assign` takes
 * and the JSON that is saved.
 */
import { kmeans, toJSON as kmeansJSON } from '../ml/kmeans.js';
import { miniBatchKMeans } from '../ml/minibatch-kmeans.js';
import { gmm, toJSON as gmmJSON } from '../ml/gmm.js';
import { cutTree, hierarchicalTree, toJSON as hierarchicalJSON } from '../ml/hierarchical.js';
import { dbscan, toJSON as dbscanJSON } from '../ml/dbscan.js';
import type { AssignableModel } from '../ml/assign.js';
import type { SegmentationConfig } from '../config/schema.js';

/**
 * From this many training rows (segmentation.fitSample raised that far) k-means
 * candidates are fitted by mini-batch k-means: each step costs a batch, not a
 * pass over every row, for a model within about 1% of full k-means inertia.
 */
export const MINI_BATCH_ROWS = 200_000;

/** The merge tree is O(n^2): built on a seeded sample of this many rows, the rest join the nearest cluster. */
const HIERARCHICAL_SAMPLE = 5_000;

export type Algorithm = 'kmeans' | 'gmm' | 'hierarchical' | 'dbscan';
export const ALGORITHMS: readonly Algorithm[] = ['kmeans', 'gmm', 'hierarchical', 'dbscan'];

export interface Fitted {
  algorithm: Algorithm;
  params: Record<string, unknown>;
  k: number;
  model: AssignableModel;
  /** what the store keeps (the model's own toJSON form) */
  json: unknown;
}

/** Refits the same algorithm and parameters with another seed (stability). */
export function refit(f: Fitted, X: Float64Array, m: number, d: number, seed: number): AssignableModel {
  return fitOne(f.algorithm, f.params, X, m, d, seed).model;
}

function fitOne(algorithm: Algorithm, params: Record<string, unknown>, X: Float64Array, m: number, d: number, seed: number): Fitted {
  switch (algorithm) {
    case 'kmeans': {
      const k = params.k as number;
      const model = m >= MINI_BATCH_ROWS ? miniBatchKMeans(X, m, d, k, { seed, nInit: params.nInit as number }) : kmeans(X, m, d, k, { seed, nInit: params.nInit as number });
      return { algorithm, params, k, model: { ...model, kind: 'kmeans' }, json: kmeansJSON(model) };
    }
    case 'gmm': {
      const k = params.k as number;
      const model = gmm(X, m, d, k, { seed, covarianceType: params.covariance as 'full' | 'diag' });
      return { algorithm, params, k, model, json: gmmJSON(model) };
    }
    case 'hierarchical': {
      const k = params.k as number;
      const model = cutTree(hierarchicalTree(X, m, d, { linkage: params.linkage as 'ward', seed, maxSamples: HIERARCHICAL_SAMPLE }), X, m, k);
      return { algorithm, params, k, model, json: hierarchicalJSON(model) };
    }
    case 'dbscan': {
      const model = dbscan(X, m, d, { minPts: params.minPts as number, eps: params.eps as number | undefined, seed });
      return { algorithm, params: { ...params, eps: model.eps }, k: model.nClusters, model, json: dbscanJSON(model) };
    }
  }
}

export function* fitCandidates(algorithm: Algorithm, X: Float64Array, m: number, d: number, ks: readonly number[], cfg: SegmentationConfig): Generator<Fitted> {
  switch (algorithm) {
    case 'kmeans':
      for (const k of ks) yield fitOne('kmeans', { k, nInit: cfg.nInit }, X, m, d, cfg.seed);
      return;
    case 'gmm':
      for (const k of ks) yield fitOne('gmm', { k, covariance: cfg.gmm.covariance }, X, m, d, cfg.seed);
      return;
    case 'hierarchical': {
      // one tree, cut at every k
      const tree = hierarchicalTree(X, m, d, { linkage: cfg.hierarchical.linkage, seed: cfg.seed, maxSamples: HIERARCHICAL_SAMPLE });
      for (const k of ks) {
        const model = cutTree(tree, X, m, k);
        yield { algorithm, params: { k, linkage: cfg.hierarchical.linkage }, k, model, json: hierarchicalJSON(model) };
      }
      return;
    }
    case 'dbscan': {
      const f = fitOne('dbscan', { minPts: cfg.dbscan.minPts, eps: cfg.dbscan.eps }, X, m, d, cfg.seed);
      if (f.k >= 2) yield f;
      return;
    }
  }
}
