/**
 * Model selection over the k range. Real customer data has no crisp clusters
 * (DESIGN.md), so this is not a bare argmax: candidates with a segment below
 * the minimum share are set aside, and among those within `tolerance` of the
 * best main index the LARGEST k wins. The whole table is kept for people.
 */
import { kmeans, predict, type KMeansModel } from '../ml/kmeans.js';
import { calinskiHarabasz, daviesBouldin, silhouette } from '../ml/metrics.js';
import type { SegmentationConfig } from '../config/schema.js';
import type { ProgressTask } from '../core/progress.js';

export interface Candidate {
  algorithm: 'kmeans';
  k: number;
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
  inertia: number;
  /** smallest segment's share of the clustered customers */
  minShare: number;
  eligible: boolean;
  chosen: boolean;
}

export interface Selection {
  candidates: Candidate[];
  model: KMeansModel;
  /** Euclidean distance of each row to its centroid, and a [0.5, 1] confidence from the runner-up distance */
  distances: Float64Array;
  confidence: Float64Array;
}

export function kRange(cfg: SegmentationConfig, n: number): number[] {
  const [lo, hi] = typeof cfg.k === 'number' ? [cfg.k, cfg.k] : [cfg.k.min, cfg.k.max];
  const out: number[] = [];
  for (let k = lo; k <= Math.min(hi, n - 1); k++) out.push(k);
  return out;
}

function better(select: SegmentationConfig['select'], c: Candidate): number {
  switch (select) {
    case 'silhouette':
      return c.silhouette;
    case 'calinski-harabasz':
      return c.calinskiHarabasz;
    case 'davies-bouldin':
      return -c.daviesBouldin;
  }
}

export function selectKMeans(X: Float64Array, n: number, d: number, cfg: SegmentationConfig, task?: ProgressTask): Selection {
  const ks = kRange(cfg, n);
  const models = new Map<number, KMeansModel>();
  const candidates: Candidate[] = [];
  ks.forEach((k, i) => {
    const m = kmeans(X, n, d, k, { seed: cfg.seed, nInit: cfg.nInit });
    models.set(k, m);
    const sizes = new Array<number>(k).fill(0);
    for (const l of m.labels) sizes[l] = (sizes[l] ?? 0) + 1;
    candidates.push({
      algorithm: 'kmeans',
      k,
      silhouette: silhouette(X, n, d, m.labels, { sampleSize: cfg.silhouetteSample, seed: cfg.seed }),
      daviesBouldin: daviesBouldin(X, n, d, m.labels),
      calinskiHarabasz: calinskiHarabasz(X, n, d, m.labels),
      inertia: m.inertia,
      minShare: Math.min(...sizes) / n,
      eligible: true,
      chosen: false,
    });
    task?.update(i + 1, ks.length);
  });
  for (const c of candidates) c.eligible = c.minShare >= cfg.minSegmentShare;
  const pool = candidates.some((c) => c.eligible) ? candidates.filter((c) => c.eligible) : candidates;
  const best = Math.max(...pool.map((c) => better(cfg.select, c)));
  const slack = cfg.tolerance * Math.abs(best);
  const near = pool.filter((c) => better(cfg.select, c) >= best - slack);
  const pick = near.reduce((a, b) => (b.k > a.k ? b : a));
  pick.chosen = true;
  const model = models.get(pick.k) as KMeansModel;
  const { distances, confidence } = soft(model, X, n, d);
  return { candidates, model, distances, confidence };
}

/** Distance to the own centroid and a confidence from the runner-up: d2 / (d1 + d2). */
function soft(m: KMeansModel, X: Float64Array, n: number, d: number): { distances: Float64Array; confidence: Float64Array } {
  const { distances } = predict(m, X, n);
  const confidence = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let second = Infinity;
    const own = m.labels[i] as number;
    for (let j = 0; j < m.k; j++) {
      if (j === own) continue;
      let s = 0;
      for (let f = 0; f < d; f++) {
        const t = (X[i * d + f] as number) - (m.centroids[j * d + f] as number);
        s += t * t;
      }
      second = Math.min(second, s);
    }
    const d1 = distances[i] as number;
    const d2 = Math.sqrt(second);
    confidence[i] = Number.isFinite(d2) && d1 + d2 > 0 ? d2 / (d1 + d2) : 1;
  }
  return { distances, confidence };
}
