/**
 * Model selection. Every algorithm is fitted over its parameter range on the
 * training rows (a seeded sample of at most `fitSample`) and scored on held-out
 * validation rows. Real customer data has no crisp clusters (DESIGN.md), so this
 * is not a bare argmax: candidates with a segment below `minSegmentShare` (or
 * too much DBSCAN noise) are set aside, stability across resamples is measured
 * for those within `tolerance` of the best index and unstable ones refused, and
 * the LARGEST k left wins (ties: lower Davies-Bouldin). The table is kept.
 */
import { assign, type Assignment } from '../ml/assign.js';
import { calinskiHarabasz, daviesBouldin, silhouetteMany } from '../ml/metrics.js';
import { stability } from '../ml/stability.js';
import { createRng, sampleIndices } from '../ml/random.js';
import type { SegmentationConfig } from '../config/schema.js';
import type { ProgressTask } from '../core/progress.js';
import { trainValidationSplit, type Split } from '../features/split.js';
import { ALGORITHMS, fitCandidates, refit, type Algorithm, type Fitted } from './candidates.js';

export interface Candidate {
  algorithm: Algorithm;
  params: Record<string, unknown>;
  k: number;
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
  /** smallest segment's share of the (non-noise) validation rows */
  minShare: number;
  /** share of validation rows DBSCAN calls noise */
  noiseShare: number;
  /** mean adjusted Rand index across resamples; measured for the finalists only */
  stability: number | null;
  eligible: boolean;
  chosen: boolean;
}

export interface Selection extends Assignment {
  candidates: Candidate[];
  chosen: Fitted;
}

export function kRange(cfg: SegmentationConfig, n: number): number[] {
  const [lo, hi] = typeof cfg.k === 'number' ? [cfg.k, cfg.k] : [cfg.k.min, cfg.k.max];
  const out: number[] = [];
  for (let k = lo; k <= Math.min(hi, n - 1); k++) out.push(k);
  return out;
}

function index(select: SegmentationConfig['select'], c: Candidate): number {
  switch (select) {
    case 'silhouette':
      return c.silhouette;
    case 'calinski-harabasz':
      return c.calinskiHarabasz;
    case 'davies-bouldin':
      return -c.daviesBouldin;
  }
}

function gather(X: Float64Array, d: number, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(X.subarray((rows[i] as number) * d, ((rows[i] as number) + 1) * d), i * d);
  return out;
}

export function algorithmsFor(cfg: SegmentationConfig, override?: string): Algorithm[] {
  const a = override ?? cfg.algorithm;
  if (a !== 'auto') return [a as Algorithm];
  const all = cfg.algorithms.length ? [...cfg.algorithms] : [...ALGORITHMS];
  // DBSCAN finds its own number of clusters: it cannot honour a fixed k
  return typeof cfg.k === 'number' ? all.filter((x) => x !== 'dbscan') : all;
}

export function selectModel(
  X: Float64Array,
  n: number,
  d: number,
  cfg: SegmentationConfig,
  /** `split`: the rows the prep step was fitted on and the held-out ones (computed from the config when absent) */
  opts: { algorithms: Algorithm[]; task?: ProgressTask; split?: Split },
): Selection {
  const ks = kRange(cfg, n);
  const rng = createRng(cfg.seed);
  const { train, validation } = opts.split ?? trainValidationSplit(n, cfg.validationShare, cfg.seed);
  const trainRows = train.length > cfg.fitSample ? sampleIndices(train.length, cfg.fitSample, rng).sort().map((i) => train[i] as number) : train;
  const valRows = validation.length > cfg.silhouetteSample ? sampleIndices(validation.length, cfg.silhouetteSample, rng).sort().map((i) => validation[i] as number) : validation;
  const Xt = gather(X, d, trainRows);
  const Xv = gather(X, d, valRows);
  const mt = trainRows.length;
  const mv = valRows.length;

  const fitted: Fitted[] = [];
  const candidates: Candidate[] = [];
  const total = opts.algorithms.reduce((a, al) => a + (al === 'dbscan' ? 1 : ks.length), 0);
  let done = 0;
  // Silhouettes are scored together once every candidate is in: the
  // validation rows' distances are then computed once, not per candidate.
  const toScore: { candidate: Candidate; labels: Int32Array }[] = [];
  for (const algorithm of opts.algorithms) {
    for (const f of fitCandidates(algorithm, Xt, mt, d, ks, cfg)) {
      const a = assign(f.model, Xv, mv);
      // metrics over the rows the model places in a cluster (DBSCAN noise is its own segment)
      const keep: number[] = [];
      for (let i = 0; i < mv; i++) if ((a.labels[i] as number) >= 0) keep.push(i);
      const Xk = keep.length === mv ? Xv : gather(Xv, d, keep);
      const lk = keep.length === mv ? a.labels : Int32Array.from(keep, (i) => a.labels[i] as number);
      const sizes = new Map<number, number>();
      for (const l of lk) sizes.set(l, (sizes.get(l) ?? 0) + 1);
      const valid = sizes.size >= 2 && keep.length > sizes.size;
      candidates.push({
        algorithm: f.algorithm,
        params: f.params,
        k: f.k,
        // valRows is at most silhouetteSample rows: the exact silhouette, filled in below
        silhouette: NaN,
        daviesBouldin: valid ? daviesBouldin(Xk, keep.length, d, lk) : NaN,
        calinskiHarabasz: valid ? calinskiHarabasz(Xk, keep.length, d, lk) : NaN,
        // a cluster the validation rows never reach has share 0
        minShare: valid ? Math.min(...Array.from({ length: f.k }, (_, c) => (sizes.get(c) ?? 0) / keep.length)) : 0,
        noiseShare: 1 - keep.length / mv,
        stability: null,
        eligible: false,
        chosen: false,
      });
      if (valid) toScore.push({ candidate: candidates[candidates.length - 1] as Candidate, labels: Int32Array.from(a.labels) });
      fitted.push(f);
      opts.task?.update(++done, total);
    }
  }
  if (candidates.length === 0) throw new Error('no candidate model could be fitted');
  // negative labels (DBSCAN noise) leave rows out, as the per-candidate metrics above do
  silhouetteMany(Xv, mv, d, toScore.map((t) => t.labels)).forEach((v, i) => ((toScore[i] as (typeof toScore)[number]).candidate.silhouette = v));

  for (const c of candidates) {
    c.eligible = Number.isFinite(c.silhouette) && c.minShare >= cfg.minSegmentShare && c.noiseShare <= cfg.maxNoiseShare;
  }
  const scored = candidates.filter((c) => Number.isFinite(index(cfg.select, c)));
  const pool = candidates.some((c) => c.eligible) ? candidates.filter((c) => c.eligible) : scored.length ? scored : candidates;
  const best = Math.max(...pool.map((c) => index(cfg.select, c)));
  const slack = cfg.tolerance * Math.abs(best);
  const near = pool.filter((c) => index(cfg.select, c) >= best - slack);

  // stability of the finalists: refit on resamples of the training rows, compare on held-out rows
  const stabRows = mt > 5_000 ? gather(Xt, d, sampleIndices(mt, 5_000, createRng(cfg.seed + 1)).sort()) : Xt;
  const ms = Math.min(mt, 5_000);
  for (const c of near) {
    if (cfg.stabilityRounds === 0) break;
    const f = fitted[candidates.indexOf(c)] as Fitted;
    c.stability = stability(stabRows, ms, d, (data, m, dd, seed) => refit(f, data, m, dd, seed), {
      method: 'subsample',
      rounds: cfg.stabilityRounds,
      fraction: 0.8,
      holdout: 0.2,
      seed: cfg.seed,
    }).mean;
  }
  const stable = near.filter((c) => c.stability === null || c.stability >= cfg.minStability);
  const finalists = stable.length ? stable : near;
  const pick = finalists.reduce((a, b) => (b.k > a.k || (b.k === a.k && b.daviesBouldin < a.daviesBouldin) ? b : a));
  pick.chosen = true;
  const chosen = fitted[candidates.indexOf(pick)] as Fitted;
  const all = assign(chosen.model, X, n);
  return { candidates, chosen, ...all };
}
