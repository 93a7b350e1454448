/**
 * After a sync: the customers it touched (marked in the store with each page)
 * are placed in the active model's segments without retraining, so the next
 * push sends only the contacts that moved. `segsync segment` stays the
 * explicit retrain; `run` retrains instead when src/jobs/retrain.ts says so.
 */
import { isUserError } from '../core/errors.js';
import { assignCustomers } from '../segment/assign-customers.js';
import type { JobContext } from './context.js';

export interface AssignTouchedCounts {
  modelId: number;
  /** customers the sync touched (or that lost their last contact) */
  touched: number;
  assigned: number;
  moved: number;
  removed: number;
}

export type AssignTouchedOutcome =
  | ({ status: 'assigned' } & AssignTouchedCounts)
  | { status: 'no-model' }
  /** the active model cannot be read: nothing is assigned until `segsync segment` retrains */
  | { status: 'model-invalid'; error: string };

export function assignTouched(ctx: JobContext): AssignTouchedOutcome {
  const { store } = ctx;
  const model = store.models.activeModel();
  if (!model) return { status: 'no-model' };
  const dirty = store.models.dirtyCustomers();
  // a customer only loses its last contact through a sync that touched something
  const ids = dirty.length ? [...new Set([...dirty, ...store.models.orphanedMembers(model.id)])] : [];
  if (ids.length === 0) return { status: 'assigned', modelId: model.id, touched: 0, assigned: 0, moved: 0, removed: 0 };
  try {
    const r = assignCustomers(store, ctx.config, ids, { now: ctx.now, logger: ctx.logger });
    store.models.clearDirty(ids);
    return { status: 'assigned', modelId: model.id, touched: ids.length, assigned: r.assigned, moved: r.moved.length, removed: r.removed.length };
  } catch (e) {
    if (!isUserError(e) || e.code !== 'MODEL_INVALID') throw e;
    ctx.logger.warn({ err: e.oneLine() }, 'the active model cannot assign the synced customers: run `segsync segment`');
    return { status: 'model-invalid', error: e.oneLine() };
  }
}
