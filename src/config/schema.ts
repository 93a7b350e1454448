/**
 * The config file's shape. Every key is documented in README.md ("Config
 * reference") and in the template `segsync init` writes. Objects are strict:
 * an unknown key is an error with its path and a "did you mean".
 */
import { z } from 'zod';
import { validateDetailed as validateCron } from 'node-cron';

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
  /** Categorical contact properties, one-hot encoded: the `top` most frequent training values get a column each, the rest share "other". */
  categorical: z
    .array(
      z.strictObject({
        /** `lifecycle_stage` and `country` are contact fields; any other name is a contact property. */
        property: z.string().min(1),
        top: z.number().int().min(1).max(100).default(10),
      }),
    )
    .default([]),
  /** A numeric feature missing for more than this share of training customers also gets a 0/1 "missing" column (1 turns it off). */
  missingIndicatorShare: z.number().min(0).max(1).default(0.05),
  /** Clip each numeric feature at these percentiles of the training customers before scaling (0 and 1 turn it off). */
  winsorize: z
    .strictObject({ lower: z.number().min(0).max(0.5).default(0.01), upper: z.number().min(0.5).max(1).default(0.99) })
    .default({ lower: 0.01, upper: 0.99 }),
  /** standard: mean and standard deviation; robust: median and interquartile range (outliers weigh less). */
  scaling: z.enum(['standard', 'robust']).default('standard'),
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

export const algorithmSchema = z.enum(['kmeans', 'gmm', 'hierarchical', 'dbscan']);

export const segmentationSchema = z.strictObject({
  /** auto evaluates every algorithm in `algorithms` and picks by the rule in README.md. */
  algorithm: z.enum(['auto', 'kmeans', 'gmm', 'hierarchical', 'dbscan']).default('auto'),
  /** What `auto` evaluates. */
  algorithms: z.array(algorithmSchema).min(1).default(['kmeans', 'gmm', 'hierarchical', 'dbscan']),
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
  /** Share of customers held out to score candidates (seeded split). */
  validationShare: z.number().min(0.05).max(0.5).default(0.2),
  /** Candidates are fitted on at most this many training rows (a seeded sample). */
  fitSample: z.number().int().min(500).default(50_000),
  /** Refuse a finalist whose mean adjusted Rand index across resamples is below this. */
  minStability: z.number().min(0).max(1).default(0.6),
  /** Resamples per finalist for the stability check (0 turns it off). */
  stabilityRounds: z.number().int().min(0).max(20).default(3),
  /** DBSCAN candidates calling more than this share of customers noise are not chosen. */
  maxNoiseShare: z.number().min(0).max(1).default(0.2),
  gmm: z.strictObject({ covariance: z.enum(['full', 'diag']).default('full') }).default({ covariance: 'full' }),
  hierarchical: z.strictObject({ linkage: z.enum(['ward', 'average', 'complete']).default('ward') }).default({ linkage: 'ward' }),
  /** eps unset: chosen from the k-distance curve's knee. */
  dbscan: z.strictObject({ minPts: z.number().int().min(2).default(10), eps: z.number().positive().optional() }).default({ minPts: 10 }),
  seed: z.number().int().default(42),
  /** Drift of today's customers against the training ones: `segsync run` retrains when a feature's PSI passes `maxPsi`. */
  drift: z
    .strictObject({
      maxPsi: z.number().positive().default(0.2),
      /** quantile bins per numeric feature, fitted on the training customers */
      bins: z.number().int().min(2).max(100).default(10),
    })
    .default({ maxPsi: 0.2, bins: 10 }),
  /** `segsync run` retrains (instead of only assigning the synced customers) when the model is this many days old; 0: never by age. */
  retrainAfterDays: z.number().int().min(0).default(30),
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
  /** Records per page (one transaction each); unset, each stream uses its own default (DEFAULT_PAGE_SIZE, or the stream's). */
  pageSize: z.number().int().min(1).max(100_000).optional(),
  /** Fail the run when more than this share of records is quarantined. */
  maxRejectedShare: z.number().min(0).max(1).default(0.2),
});

export const demoSchema = z.strictObject({
  /** Where the demo CSV files are generated when absent. */
  dir: z.string().min(1).default('./data/demo'),
  customers: z.number().int().min(10).max(5_000_000).default(20_000),
  seed: z.number().int().default(42),
});

/** A cron expression (5 fields, or 6 with seconds first), checked with node-cron's parser. */
function cronProblem(v: string): string | undefined {
  const r = validateCron(v);
  if (r.valid) return undefined;
  const why = r.errors.map((e) => e.message).join('; ');
  return `not a valid cron expression${why ? ` (${why})` : ''}: use 5 fields "minute hour day month weekday", e.g. "*/30 * * * *"`;
}
const cronExpr = z.string().superRefine((v, ctx) => {
  const p = cronProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** `segsync serve` runs these jobs; a job without an entry only runs when asked (CLI or admin API). */
export const scheduleSchema = z.strictObject({
  /** Incremental sync of every connector. */
  sync: cronExpr.optional(),
  /** Rebuild features and segment the customers. */
  segment: cronExpr.optional(),
  /** Push memberships on its own cron, or right after each scheduled segment run that succeeds. */
  push: z
    .string()
    .superRefine((v, ctx) => {
      if (v === 'after-segment' || cronProblem(v) === undefined) return;
      const p = /\s/.test(v.trim()) ? `${cronProblem(v)}, or "after-segment"` : `expected "after-segment" or a cron expression such as "0 4 * * *"`;
      ctx.addIssue({ code: 'custom', message: p });
    })
    .optional(),
  /** IANA time zone the cron expressions are read in. */
  timezone: z.string().refine(isTimeZone, { message: 'unknown time zone: use an IANA name such as "UTC" or "Europe/Paris"' }).default('UTC'),
});

/** The admin API and dashboard of `segsync serve`. */
export const serverSchema = z.strictObject({
  /** Address to bind; anything but loopback needs a token. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(8787),
  /** Bearer token for /api (use ${SEGSYNC_ADMIN_TOKEN}); empty = generate one per start (loopback only). */
  token: z
    .string()
    .refine((t) => t === '' || t.length >= 16, { message: 'use at least 16 characters (e.g. `openssl rand -hex 24`)' })
    .optional(),
});

/** Personal contact fields besides the email (which identity resolution needs; see `hashEmails`). */
export const PERSONAL_FIELDS = ['firstName', 'lastName', 'company', 'country', 'lifecycleStage'] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

/** What the store keeps about a person (docs/security.md). */
export const privacySchema = z.strictObject({
  /** Personal fields kept besides the email; unset = what features need (`country` and `lifecycleStage` when `features.categorical` names them). */
  fields: z.array(z.enum(PERSONAL_FIELDS)).optional(),
  /** Contact properties kept; unset = the ones `features.extra` and `features.categorical` name. */
  properties: z.array(z.string().min(1)).optional(),
  /** Store emails as keyed HMAC-SHA256 digests, not addresses; the key comes from `hashKeyEnv`. */
  hashEmails: z.boolean().default(false),
  /** Name of the environment variable holding the HMAC key (at least 32 characters). */
  hashKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').default('SEGSYNC_EMAIL_KEY'),
});

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "500ms", "2s", "1m", "7d" -> milliseconds, within [min, max]. */
const durationMs = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const m = DURATION.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as "500ms", "2s", "1m", "24h" or "7d"' });
      return z.NEVER;
    }
    const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${min < 1_000 ? `${min}ms` : `${min / 1_000}s`} and ${max < 3_600_000 ? `${max / 1_000}s` : `${max / 86_400_000}d`}` });
      return z.NEVER;
    }
    return ms;
  });

/** HubSpot webhooks into `segsync serve` (POST /webhooks/hubspot). */
export const hubspotWebhooksSchema = z.strictObject({
  /** The HubSpot connector the webhooks are about; optional when only one is configured. */
  connector: z.string().min(1).optional(),
  /** The HubSpot app's client secret: it signs every delivery (use ${HUBSPOT_CLIENT_SECRET}). */
  clientSecret: z.string().min(1, 'is empty: set it to the app client secret'),
  /** Only events from this HubSpot portal (account) are applied; others are acknowledged and ignored (a public app installed in several portals). */
  portalId: z.number().int().positive().optional(),
  /** The URL HubSpot calls, when a proxy in front changes it (the signature covers it). */
  publicUrl: z.url({ message: 'expected the full URL configured in HubSpot, e.g. https://segsync.example.com/webhooks/hubspot' }).optional(),
});

/** A connector `segsync serve` syncs incrementally on a short interval, assigning and pushing what changed. */
export const pollSchema = z.strictObject({
  connector: z.string().min(1),
  /** How often (at least 10 s). */
  every: durationMs(10_000, 86_400_000).prefault('1m'),
});

/** Near-real-time segmentation in `segsync serve`: webhooks and short polls, applied without retraining. */
export const realtimeSchema = z.strictObject({
  /** Events arriving within this window after the first one are applied in one run. */
  batchWindow: durationMs(0, 60_000).prefault('2s'),
  /** Events per run at most; a bigger burst is applied by consecutive runs. */
  maxBatch: z.number().int().min(1).max(10_000).default(1_000),
  /** How long applied event ids are remembered, so a redelivery or replay is not applied twice. */
  dedupeRetention: durationMs(3_600_000, 90 * 86_400_000).prefault('7d'),
  hubspot: hubspotWebhooksSchema.optional(),
  poll: z.array(pollSchema).default([]),
});

export const configSchema = z.strictObject({
  /** SQLite feature store file; relative to the config file. */
  store: z.string().min(1).default('./data/segsync.db'),
  log: logSchema.default({ level: 'info', file: './data/segsync.log' }),
  connectors: z.array(connectorEntrySchema).min(1, 'configure at least one connector'),
  sync: syncSchema.default({ maxRejectedShare: 0.2 }),
  features: featuresSchema.default(featuresSchema.parse({})),
  segmentation: segmentationSchema.default(segmentationSchema.parse({})),
  push: pushSchema.default({ maxChurn: 0.3, targets: [] }),
  /** Generate demo data here when the files are absent (the embedded demo). */
  demo: demoSchema.optional(),
  /** Jobs `segsync serve` runs on its own. */
  schedule: scheduleSchema.optional(),
  /** Admin API and dashboard of `segsync serve`. */
  server: serverSchema.default({ host: '127.0.0.1', port: 8787 }),
  /** Which personal fields the store keeps, and whether emails are hashed. */
  privacy: privacySchema.default({ hashEmails: false, hashKeyEnv: 'SEGSYNC_EMAIL_KEY' }),
  /** Webhooks and short polls `segsync serve` applies within seconds. */
  realtime: realtimeSchema.optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
export type FeaturesConfig = z.infer<typeof featuresSchema>;
export type SegmentationConfig = z.infer<typeof segmentationSchema>;
export type PushConfig = z.infer<typeof pushSchema>;
export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type PrivacyConfig = z.infer<typeof privacySchema>;
export type RealtimeConfig = z.infer<typeof realtimeSchema>;

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
  /** The email HMAC key (from the environment variable `privacy.hashKeyEnv`) when `privacy.hashEmails` is on. */
  emailHashKey: string | undefined;
}
