/**
 * The feature spec and fitted transform as the models table keeps them, parsed
 * at the boundary: a model saved by an older segsync, or a damaged row, fails
 * here with a message saying to retrain instead of mis-transforming customers.
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { FeatureSpec } from './build.js';
import type { Scaler } from './scaler.js';

const transform = z.enum(['none', 'log1p']);

export const featureSpecSchema = z.object({
  preset: z.enum(['rfm', 'none']),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  asOfFixed: z.boolean().optional(),
  columns: z.array(z.string()),
  transforms: z.array(transform),
  properties: z.array(z.string()),
  currency: z.object({ base: z.string(), rates: z.record(z.string(), z.number()) }).optional(),
});

export const scalerSchema = z.object({
  transforms: z.array(transform),
  medians: z.array(z.number()),
  mean: z.array(z.number()),
  std: z.array(z.number()),
});

export function invalidModel(modelId: number, what: string, cause?: unknown): UserError {
  return new UserError('MODEL_INVALID', `model #${modelId}: ${what}`, {
    hint: 'retrain with `segsync segment`',
    ...(cause !== undefined ? { cause } : {}),
  });
}

function parse<T>(schema: z.ZodType<T>, value: unknown, modelId: number, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalidModel(modelId, `its saved ${what} is not readable (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'})`, r.error);
  }
  return r.data;
}

export function parseFeatureSpec(value: unknown, modelId: number): FeatureSpec {
  const spec = parse(featureSpecSchema, value, modelId, 'feature spec');
  if (spec.transforms.length !== spec.columns.length) throw invalidModel(modelId, 'its feature spec has a transform count unlike its column count');
  const out: FeatureSpec = { preset: spec.preset, asOf: spec.asOf, columns: spec.columns, transforms: spec.transforms, properties: spec.properties };
  if (spec.asOfFixed !== undefined) out.asOfFixed = spec.asOfFixed;
  if (spec.currency) out.currency = spec.currency;
  return out;
}

export function parseScaler(value: unknown, d: number, modelId: number): Scaler {
  const s = parse(scalerSchema, value, modelId, 'transform');
  if ([s.transforms, s.medians, s.mean, s.std].some((a) => a.length !== d)) {
    throw invalidModel(modelId, `its saved transform is for ${s.mean.length} features, its feature spec has ${d}`);
  }
  return s;
}
