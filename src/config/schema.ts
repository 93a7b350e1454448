/**
 * The config file's shape. Every key is documented in README.md ("Config
 * reference") and in the template `segsync init` writes. Objects are strict:
 * an unknown key is an error with its path and a "did you mean".
 */
import { z } from 'zod';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const logSchema = z.strictObject({
  /** pino level */
  level: logLevel.default('info'),
  /** JSON lines go here; relative to the config file. */
  file: z.string().min(1).default('./data/segsync.log'),
});

/** Entry of `connectors`; the rest of the entry is checked by the connector's own schema. */
export const connectorEntrySchema = z.looseObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'use letters, digits, "-" and "_" only'),
  type: z.string().min(1),
});

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');

export const featuresSchema = z.strictObject({
  /** rfm: recency/frequency/monetary/aov/tenure from won transactions; none: contact properties only */
  preset: z.enum(['rfm', 'none']).default('rfm'),
  /** Extra numeric contact properties to add as features. */
  extra: z
    .array(
      z.strictObject({
        property: z.string().min(1),
        transform: z.enum(['none', 'log1p']).default('none'),
      }),
    )
    .default([]),
  /** Compute recency as of this day instead of today (historical data, backtests). */
  asOf: isoDay.optional(),
  /** Conversion rates into one currency; amounts in other currencies are multiplied by their rate. */
  currency: z
    .strictObject({
      base: z.string().length(3),
      rates: z.record(z.string().length(3), z.number().positive()).default({}),
    })
    .optional(),
});

const kRange = z
  .strictObject({ min: z.number().int().min(2), max: z.number().int().min(2) })
  .refine((r) => r.min <= r.max, { message: 'k.min must not exceed k.max' });

export const segmentationSchema = z.strictObject({
  /** auto evaluates every available algorithm; kmeans is the baseline. */
  algorithm: z.enum(['auto', 'kmeans']).default('auto'),
  /** A fixed k, or a range to choose from. */
  k: z.union([z.number().int().min(2), kRange]).default({ min: 3, max: 8 }),
  /** Main index for choosing k. */
  select: z.enum(['silhouette', 'davies-bouldin', 'calinski-harabasz']).default('silhouette'),
  /** Prefer the largest k whose index is within this share of the best. */
  tolerance: z.number().min(0).max(1).default(0.1),
  /** Candidates with a segment smaller than this share of customers are not chosen. */
  minSegmentShare: z.number().min(0).max(0.5).default(0.02),
  /** k-means restarts per k. */
  nInit: z.number().int().min(1).max(50).default(4),
  /** Rows scored for the silhouette (exact up to this many; a seeded sample above). */
  silhouetteSample: z.number().int().min(100).default(10_000),
  seed: z.number().int().default(42),
});

export const pushTargetSchema = z.looseObject({
  /** Name of a configured connector with a writer. */
  connector: z.string().min(1),
});

export const pushSchema = z.strictObject({
  /** Hold the push for approval when more than this share of customers changed segment. */
  maxChurn: z.number().min(0).max(1).default(0.3),
  targets: z.array(pushTargetSchema).default([]),
});

export const syncSchema = z.strictObject({
  /** Records per page (one transaction each). */
  pageSize: z.number().int().min(1).max(100_000).default(5_000),
  /** Fail the run when more than this share of records is quarantined. */
  maxRejectedShare: z.number().min(0).max(1).default(0.2),
});

export const demoSchema = z.strictObject({
  /** Where the demo CSV files are generated when absent. */
  dir: z.string().min(1).default('./data/demo'),
  customers: z.number().int().min(10).max(5_000_000).default(20_000),
  seed: z.number().int().default(42),
});

export const configSchema = z.strictObject({
  /** SQLite feature store file; relative to the config file. */
  store: z.string().min(1).default('./data/segsync.db'),
  log: logSchema.default({ level: 'info', file: './data/segsync.log' }),
  connectors: z.array(connectorEntrySchema).min(1, 'configure at least one connector'),
  sync: syncSchema.default({ pageSize: 5_000, maxRejectedShare: 0.2 }),
  features: featuresSchema.default({ preset: 'rfm', extra: [] }),
  segmentation: segmentationSchema.default(segmentationSchema.parse({})),
  push: pushSchema.default({ maxChurn: 0.3, targets: [] }),
  /** Generate demo data here when the files are absent (the embedded demo). */
  demo: demoSchema.optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
export type FeaturesConfig = z.infer<typeof featuresSchema>;
export type SegmentationConfig = z.infer<typeof segmentationSchema>;
export type PushConfig = z.infer<typeof pushSchema>;

export interface ConnectorConfig {
  name: string;
  type: string;
  /** The entry as validated by the connector's own schema. */
  settings: unknown;
}

export interface Config extends Omit<RawConfig, 'connectors'> {
  /** Absolute path of the config file. */
  file: string;
  /** Directory relative paths resolve against. */
  baseDir: string;
  connectors: ConnectorConfig[];
  /** Secret values found in the config, scrubbed from every log line. */
  secrets: string[];
}
