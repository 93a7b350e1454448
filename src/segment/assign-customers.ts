/**
 * Assignment without retraining: some customers (touched by a sync or a
 * webhook) are placed in the active model's segments exactly as the segment
 * step placed everyone — the model's own feature spec and fitted transform,
 * then its assignment rule (nearest centroid, GMM posterior, DBSCAN core point
 * within eps, noise to "Outliers"), customers without a purchase to "No
 * purchases yet". Their memberships change in one transaction, so the push
 * engine's diff then sends only the contacts that moved.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/index.js';
import type { MembershipRow, NewSegment } from '../store/models-repo.js';
import { UserError } from '../core/errors.js';
import { buildFeatures, type FeatureSpec } from '../features/build.js';
import { applyPrep } from '../features/prep.js';
import { assign } from '../ml/assign.js';
import { NO_PURCHASE_SEGMENT, fixedSegment } from './fixed-segments.js';
import { readSavedModel } from './saved-model.js';

export interface AssignResult {
  /** customers given a membership (moved or not) */
  assigned: number;
  /** customers whose segment changed; `from` null for a customer new to the model */
  moved: Array<{ customerId: string; from: string | null; to: string }>;
  /** customers given no membership, with why (deleted ones are also in `removed` when they had one) */
  skipped: Array<{ customerId: string; reason: string }>;
  /** customers that lost their membership (no live contact left) */
  removed: string[];
}

/**
 * Recency must mean the same as at training: a day fixed in the config
 * (backtests) stays fixed; otherwise "today" is the day of the assignment.
 */
export function specForToday(spec: FeatureSpec, config: Config, now: Date): FeatureSpec {
  const fixed = spec.asOfFixed ?? (config.features.asOf !== undefined && config.features.asOf === spec.asOf);
  return fixed ? spec : { ...spec, asOf: now.toISOString().slice(0, 10) };
}

export function assignCustomers(
  store: Store,
  config: Config,
  customerIds: readonly string[],
  opts: { now?: () => Date; logger?: Logger } = {},
): AssignResult {
  const record = store.models.activeModel();
  if (!record) throw new UserError('NO_MODEL', 'there is no segmentation model to assign customers with', { hint: 'run `segsync segment` first' });
  const saved = readSavedModel(record);
  const now = (opts.now ?? (() => new Date()))();
  const ids = [...new Set(customerIds)].sort();
  const out: AssignResult = { assigned: 0, moved: [], skipped: [], removed: [] };
  if (ids.length === 0) return out;

  const fm = buildFeatures(store.features, specForToday(saved.spec, config, now), { customerIds: ids });
  const X = applyPrep(saved.prep, fm);
  const a = assign(saved.model, X, fm.n);
  const rows: MembershipRow[] = [];
  for (let i = 0; i < fm.n; i++) {
    const label = a.labels[i] as number;
    const dist = a.distances[i] as number;
    rows.push({
      customerId: fm.customerIds[i] as string,
      segmentId: label < 0 ? saved.outlierSegment : (saved.segmentIds[label] as string),
      confidence: a.confidence[i] as number,
      distance: Number.isFinite(dist) ? dist : null,
    });
  }
  for (const c of fm.noPurchase) rows.push({ customerId: c, segmentId: NO_PURCHASE_SEGMENT.id, confidence: 1, distance: null });
  rows.sort((x, y) => (x.customerId < y.customerId ? -1 : x.customerId > y.customerId ? 1 : 0));

  const previous = store.models.membershipsOf(saved.id, ids);
  const live = new Set(rows.map((r) => r.customerId));
  for (const c of ids) {
    if (live.has(c)) continue;
    if (previous.has(c)) out.removed.push(c);
    out.skipped.push({ customerId: c, reason: 'no live contact (deleted or unknown)' });
  }
  for (const r of rows) {
    const from = previous.get(r.customerId)?.segmentId ?? null;
    if (from !== r.segmentId) out.moved.push({ customerId: r.customerId, from, to: r.segmentId });
  }
  out.assigned = rows.length;

  // a fixed segment the model had no member of at training must exist for the rows to be pushed
  const liveSegments = new Set(store.models.segments().map((s) => s.id));
  const needed: NewSegment[] = [];
  const missing = [NO_PURCHASE_SEGMENT.id, saved.outlierSegment].filter((id) => !liveSegments.has(id) && rows.some((r) => r.segmentId === id));
  if (missing.length) {
    const total = [...store.models.segmentSizes(saved.id).values()].reduce((x, y) => x + y, 0) - previous.size + rows.length;
    for (const id of missing) {
      const size = rows.reduce((n, r) => n + (r.segmentId === id ? 1 : 0), 0);
      needed.push({ ...fixedSegment(id === NO_PURCHASE_SEGMENT.id ? 'noPurchase' : 'outliers', size, total), id });
    }
  }
  store.models.patchMemberships(saved.id, { upsert: rows, remove: out.removed, segments: needed, now: now.toISOString() });
  opts.logger?.info(
    { modelId: saved.id, customers: ids.length, assigned: out.assigned, moved: out.moved.length, removed: out.removed.length },
    'customers assigned without retraining',
  );
  return out;
}
