/**
 * The feature spec and fitted transform as the models table keeps them, parsed
 * at the boundary. A model saved before the prep step (a plain scaler) loads as
 * the identical transform; a damaged row fails here with a message saying to
 * retrain instead of mis-transforming customers.
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { FeatureSpec } from './build.js';
import { prepFromLegacyScaler, type Prep } from './prep.js';
import type { DriftReference } from './drift.js';

const transform = z.enum(['none', 'log1p']);

export const featureSpecSchema = z.object({
  preset: z.enum(['rfm', 'none']),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  asOfFixed: z.boolean().optional(),
  columns: z.array(z.string()),
  transforms: z.array(transform),
  properties: z.array(z.string()),
  currency: z.object({ base: z.string(), rates: z.record(z.string(), z.number()) }).optional(),
  categorical: z.array(z.object({ property: z.string(), top: z.number().int() })).optional(),
  prep: z
    .object({
      missingIndicatorShare: z.number(),
      winsorize: z.object({ lower: z.number(), upper: z.number() }),
      scaling: z.enum(['standard', 'robust']),
    })
    .optional(),
});

/** What models saved before the prep step kept: medians, log1p and standardization. */

export const scalerSchema = z.object({
  transforms: z.array(transform),
  medians: z.array(z.number()),
  mean: z.array(z.number()),
  std: z.array(z.number()),
});

const prepSchema = z.object({
  version: z.literal(2),
  scaling: z.enum(['standard', 'robust']),
  numeric: z.array(
    z.object({
      column: z.string(),
      transform,
      median: z.number(),
      lo: z.number().nullable(),
      hi: z.number().nullable(),
      indicator: z.boolean(),
      center: z.number(),
      scale: z.number().refine((v) => v !== 0, 'must not be 0'),
    }),
  ),
  categorical: z.array(z.object({ property: z.string(), values: z.array(z.string()), other: z.boolean() })),
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
  if (spec.categorical) out.categorical = spec.categorical;
  if (spec.prep) out.prep = spec.prep;
  return out;
}

/** The fitted prep step; a model saved before it (a plain scaler) loads as the same transform. */
export function parsePrep(value: unknown, spec: FeatureSpec, modelId: number): Prep {
  const d = spec.columns.length;
  const isPrep = typeof value === 'object' && value !== null && 'version' in value;
  const p = isPrep ? parse(prepSchema, value, modelId, 'transform') : legacy(value, spec, modelId);
  if (p.numeric.length !== d) throw invalidModel(modelId, `its saved transform is for ${p.numeric.length} features, its feature spec has ${d}`);
  const props = (spec.categorical ?? []).map((c) => c.property);
  if (p.categorical.length !== props.length || p.categorical.some((c, i) => c.property !== props[i])) {
    throw invalidModel(modelId, 'its saved transform does not match its categorical features');
  }
  return p;
}

const driftSchema = z.object({
  numeric: z.array(z.object({ column: z.string(), edges: z.array(z.number()), shares: z.array(z.number()) })),
  categorical: z.array(z.object({ property: z.string(), values: z.array(z.string()), shares: z.array(z.number()) })),
});

/** The drift reference saved next to the transform; undefined for a model saved before it. */
export function parseDriftReference(value: unknown, prep: Prep, modelId: number): DriftReference | undefined {
  const raw = typeof value === 'object' && value !== null && 'drift' in value ? (value as { drift: unknown }).drift : undefined;
  if (raw === undefined) return undefined;
  const r = parse(driftSchema, raw, modelId, 'drift reference');
  const ok =
    r.numeric.length === prep.numeric.length &&
    r.numeric.every((x) => x.shares.length === x.edges.length + 2) &&
    r.categorical.length === prep.categorical.length &&
    r.categorical.every((x) => x.shares.length === x.values.length + 1);
  if (!ok) throw invalidModel(modelId, 'its saved drift reference does not match its features');
  return r;
}

function legacy(value: unknown, spec: FeatureSpec, modelId: number): Prep {
  const s = parse(scalerSchema, value, modelId, 'transform');
  const d = spec.columns.length;
  if ([s.transforms, s.medians, s.mean, s.std].some((a) => a.length !== d)) {
    throw invalidModel(modelId, `its saved transform is for ${s.mean.length} features, its feature spec has ${d}`);
  }
  return prepFromLegacyScaler(s, spec.columns);
}
