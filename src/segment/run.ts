/**
 * The segment step: features -> scaler -> model selection -> stable ids ->
 * profiles and names -> one transaction that stores the model, segments and
 * memberships.
 */
import { UserError } from '../core/errors.js';
import { faultPoint } from '../core/fault-point.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Progress } from '../core/progress.js';
import type { Store } from '../store/index.js';
import type { MembershipRow, NewSegment } from '../store/models-repo.js';
import { buildFeatures, featureSpec } from '../features/build.js';
import { applyPrep, fitPrep, prepColumns, sortedColumns } from '../features/prep.js';
import { trainValidationSplit } from '../features/split.js';
import { fitDriftReference } from '../features/drift.js';
import { selectModel, kRange, algorithmsFor } from './select.js';
import { ALGORITHMS } from './candidates.js';
import { matchSegments } from './stable-ids.js';
import { describe, profiles } from './profile.js';
import { nameSegments } from './names.js';
import { mapSnapshot, MAP_SNAPSHOT_KEY } from '../report/snapshot.js';

import { featuresSchema } from '../config/schema.js';
import { NO_PURCHASE_SEGMENT, OUTLIER_SEGMENT, fixedSegment } from './fixed-segments.js';

export { NO_PURCHASE_SEGMENT, OUTLIER_SEGMENT };

const PREP_DEFAULTS = (({ missingIndicatorShare, winsorize, scaling }) => ({ missingIndicatorShare, winsorize, scaling }))(featuresSchema.parse({}));

export interface SegmentOptions {
  runId: number;
  algorithm?: string;
  k?: number;
}

export interface SegmentResult {
  modelId: number;
  algorithm: string;
  stability: number | null;
  customers: number;
  clustered: number;
  segments: number;
  k: number;
  churn: number | null;
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
}

export function runSegmentation(
  deps: { store: Store; config: Config; logger: Logger; progress: Progress; now: () => Date },
  opts: SegmentOptions,
): SegmentResult {
  const { store, config, logger } = deps;
  const seg = { ...config.segmentation, ...(opts.k !== undefined ? { k: opts.k } : {}) };
  if (opts.algorithm !== undefined && opts.algorithm !== 'auto' && !(ALGORITHMS as readonly string[]).includes(opts.algorithm)) {
    throw new UserError('USAGE', `unknown algorithm "${opts.algorithm}" (available: auto, ${ALGORITHMS.join(', ')})`, {
      exitCode: 2,
      where: { field: '--algorithm' },
    });
  }
  const algorithms = algorithmsFor(seg, opts.algorithm);
  const spec = featureSpec(config.features, deps.now());
  const fTask = deps.progress.start('build features');
  const fm = buildFeatures(store.features, spec);
  faultPoint('segment');
  fTask.stop();
  if (fm.unconvertedCurrencies.length) {
    logger.warn({ currencies: fm.unconvertedCurrencies }, 'amounts in these currencies were summed without conversion: add features.currency.rates');
  }
  const total = fm.n + fm.noPurchase.length;
  if (total === 0) {
    throw new UserError('NOTHING_TO_SEGMENT', 'the store has no customers to segment', { hint: 'run `segsync sync` first' });
  }
  const ks = kRange(seg, fm.n);
  if (ks.length === 0) {
    throw new UserError('NOTHING_TO_SEGMENT', `only ${fm.n} customers with purchases: too few for k = ${JSON.stringify(seg.k)}`, {
      hint: 'lower segmentation.k or sync more data',
    });
  }

  // the prep step sees the training rows only: the held-out ones score the candidates as new customers
  const split = trainValidationSplit(fm.n, seg.validationShare, seg.seed);
  const sorted = sortedColumns(fm, split.train);
  const prep = fitPrep(fm, spec.prep ?? PREP_DEFAULTS, split.train, sorted);
  const driftRef = fitDriftReference(fm, prep, seg.drift.bins, split.train, sorted);
  const columns = prepColumns(prep);
  const dx = columns.length;
  const X = applyPrep(prep, fm);
  const task = deps.progress.start(`segment (${algorithms.join(', ')})`, undefined, 'candidates');
  const sel = selectModel(X, fm.n, dx, seg, { algorithms, task, split });
  faultPoint('segment');
  task.stop();
  const chosen = sel.candidates.find((c) => c.chosen);
  if (!chosen) throw new Error('model selection chose no candidate');
  const labels = sel.labels;

  const prevModel = store.models.activeModel();
  const previous = prevModel ? store.models.memberships(prevModel.id) : new Map<string, string>();
  const prevClustered = new Map([...previous].filter(([, s]) => s !== NO_PURCHASE_SEGMENT.id));
  let seq = Number(store.models.getMeta('segment_seq') ?? '0');
  const match = matchSegments(fm.customerIds, labels, chosen.k, prevClustered, () => `seg_${++seq}`);

  const totalRevenue = fm.revenue.reduce((a, b) => a + b, 0);
  const profs = profiles(labels, chosen.k, { data: fm.raw, d: fm.d, columns: spec.columns }, { data: X, d: dx, columns }, fm.revenue, total, totalRevenue);
  const names = nameSegments(profs.map((p) => p.z));
  const segments: NewSegment[] = profs.map((p, c) => ({
    id: match.ids[c] as string,
    name: names[c] as string,
    description: describe(p),
    profile: { ...p, centroidIndex: c },
  }));
  const outliers = labels.reduce((a, l) => a + (l < 0 ? 1 : 0), 0);
  if (outliers) segments.push(fixedSegment('outliers', outliers, total));
  if (fm.noPurchase.length) segments.push(fixedSegment('noPurchase', fm.noPurchase.length, total));

  const ids = match.ids;
  const segOf = (l: number): string => (l < 0 ? OUTLIER_SEGMENT.id : (ids[l] as string));
  const rows = function* (): Generator<MembershipRow> {
    for (let i = 0; i < fm.n; i++) {
      yield {
        customerId: fm.customerIds[i] as string,
        segmentId: segOf(labels[i] as number),
        confidence: sel.confidence[i] as number,
        distance: Number.isFinite(sel.distances[i]) ? (sel.distances[i] as number) : null,
      };
    }
    for (const c of fm.noPurchase) yield { customerId: c, segmentId: NO_PURCHASE_SEGMENT.id, confidence: 1, distance: null };
  };

  // churn: share of customers in both models whose segment changed; moves: from -> to counts
  let both = 0;
  let moved = 0;
  const moves = new Map<string, number>();
  const count = (from: string, to: string): void => {
    both++;
    if (from !== to) moved++;
    const key = `${from}\u0000${to}`;
    moves.set(key, (moves.get(key) ?? 0) + 1);
  };
  if (prevModel) {
    for (let i = 0; i < fm.n; i++) {
      const p = previous.get(fm.customerIds[i] as string);
      if (p !== undefined) count(p, segOf(labels[i] as number));
    }
    for (const c of fm.noPurchase) {
      const p = previous.get(c);
      if (p !== undefined) count(p, NO_PURCHASE_SEGMENT.id);
    }
  }
  const churn = prevModel ? (both ? moved / both : 0) : null;

  // persisted before the model: a crash in between only skips numbers, never reuses one
  store.models.setMeta('segment_seq', String(seq));
  faultPoint('segment');
  const modelId = store.models.saveModel(
    {
      runId: opts.runId,
      createdAt: deps.now().toISOString(),
      algorithm: chosen.algorithm,
      params: { ...chosen.params, k: chosen.k, seed: seg.seed, select: seg.select, tolerance: seg.tolerance },
      featureSpec: spec,
      // the drift reference rides with the transform: both describe the training customers
      scaler: { ...prep, drift: driftRef },
      centroids: { model: sel.chosen.json, segmentIds: ids, outlierSegment: OUTLIER_SEGMENT.id },
      metrics: {
        stability: chosen.stability,
        silhouette: chosen.silhouette,
        daviesBouldin: chosen.daviesBouldin,
        calinskiHarabasz: chosen.calinskiHarabasz,
        churn,
        moves: [...moves].map(([key, n]) => {
          const [from, to] = key.split('\u0000');
          return { from, to, count: n };
        }),
        missing: Object.fromEntries(spec.columns.map((c, j) => [c, fm.missing[j] ?? 0])),
      },
      candidates: sel.candidates,
    },
    segments,
    rows(),
  );
  faultPoint('segment');
  // the report's segment map, computed while the matrix is at hand
  store.models.setMeta(
    MAP_SNAPSHOT_KEY,
    JSON.stringify(mapSnapshot(X, fm.n, dx, (i) => { const l = labels[i] as number; return l < 0 ? null : (ids[l] as string); }, columns, { modelId, seed: seg.seed })),
  );
  faultPoint('segment');
  logger.info({ modelId, algorithm: chosen.algorithm, k: chosen.k, retired: match.retired, churn }, 'model saved');
  return {
    modelId,
    algorithm: chosen.algorithm,
    stability: chosen.stability,
    customers: total,
    clustered: fm.n,
    segments: segments.length,
    k: chosen.k,
    churn,
    silhouette: chosen.silhouette,
    daviesBouldin: chosen.daviesBouldin,
    calinskiHarabasz: chosen.calinskiHarabasz,
  };
}
