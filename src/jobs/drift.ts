/**
 * Measures drift for `segsync run`: the PSI of each feature of today's
 * customers (with purchases, when the features use them) against the active
 * model's training customers, computed with the model's own feature spec.
 * Stored with the run; `segsync status` shows the latest.
 */
import { buildFeatures } from '../features/build.js';
import { driftOf, type FeatureDrift } from '../features/drift.js';
import { parseDriftReference } from '../features/saved.js';
import { specForToday } from '../segment/assign-customers.js';
import { readSavedModel } from '../segment/saved-model.js';
import type { ModelRecord } from '../store/models-repo.js';
import type { JobContext } from './context.js';

export interface DriftMeasure {
  modelId: number;
  /** customers measured */
  customers: number;
  /** segmentation.drift.maxPsi at the time */
  maxPsi: number;
  /** the largest PSI */
  max: number;
  /** every feature, largest PSI first */
  features: FeatureDrift[];
}

/** undefined when the model carries no reference (saved before drift was measured) or cannot be read. */
export function measureDrift(ctx: Pick<JobContext, 'store' | 'config' | 'now'>, model: ModelRecord): DriftMeasure | undefined {
  let saved;
  let ref;
  try {
    saved = readSavedModel(model);
    ref = parseDriftReference(model.scaler, saved.prep, model.id);
  } catch {
    return undefined; // the retrain decision reports an unreadable model
  }
  if (!ref) return undefined;
  const fm = buildFeatures(ctx.store.features, specForToday(saved.spec, ctx.config, ctx.now()));
  const features = driftOf(ref, fm);
  return { modelId: model.id, customers: fm.n, maxPsi: ctx.config.segmentation.drift.maxPsi, max: features[0]?.psi ?? 0, features };
}

/** One retrain reason per feature past the threshold. */
export function driftReasons(d: DriftMeasure | undefined): string[] {
  if (!d) return [];
  return d.features
    .filter((f) => f.psi > d.maxPsi)
    .map((f) => `drift: PSI of ${f.feature} is ${f.psi.toFixed(3)}, above segmentation.drift.maxPsi (${d.maxPsi})`);
}
