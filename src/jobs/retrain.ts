/**
 * Does `segsync run` retrain, or only assign the customers the sync touched?
 * It retrains when there is no usable model, on a full sync, when the feature
 * settings changed since the model was fitted, when the model is older than
 * `segmentation.retrainAfterDays`, or when the population drifted past
 * `segmentation.drift.maxPsi`. Every reason that holds is reported.
 */
import { featureSpec, type FeatureSpec } from '../features/build.js';
import { parseFeatureSpec } from '../features/saved.js';
import type { ModelRecord } from '../store/models-repo.js';
import type { JobContext } from './context.js';

export interface RetrainDecision {
  retrain: boolean;
  reasons: string[];
}

const DAY_MS = 86_400_000;

/** What decides the model's input; the day recency is computed at only when the config fixes it. */
function settings(s: FeatureSpec): string {
  return JSON.stringify([
    s.preset,
    s.columns,
    s.transforms,
    s.properties,
    s.currency ?? null,
    s.categorical ?? null,
    s.prep ?? null,
    s.asOfFixed ? s.asOf : null,
  ]);
}

export function retrainDecision(
  ctx: Pick<JobContext, 'config' | 'now'>,
  model: ModelRecord | undefined,
  opts: { full: boolean; driftReasons?: readonly string[] },
): RetrainDecision {
  if (!model) return { retrain: true, reasons: ['no model yet'] };
  const reasons: string[] = [];
  if (opts.full) reasons.push('full sync');
  let saved: FeatureSpec | undefined;
  try {
    saved = parseFeatureSpec(model.featureSpec, model.id);
  } catch {
    reasons.push(`model #${model.id} cannot be read`);
  }
  if (saved && settings(saved) !== settings(featureSpec(ctx.config.features, ctx.now()))) {
    reasons.push(`feature settings changed since model #${model.id}`);
  }
  const maxDays = ctx.config.segmentation.retrainAfterDays;
  const ageDays = (ctx.now().getTime() - Date.parse(model.createdAt)) / DAY_MS;
  if (maxDays > 0 && ageDays >= maxDays) {
    reasons.push(`model #${model.id} is ${Math.floor(ageDays)} days old (segmentation.retrainAfterDays: ${maxDays})`);
  }
  reasons.push(...(opts.driftReasons ?? []));
  return { retrain: reasons.length > 0, reasons };
}
