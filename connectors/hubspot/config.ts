/**
 * The HubSpot connector's config entry and push target (every key is documented
 * in README.md here). Schemas only: no @hubspot/api-client here (see ConnectorSpec).
 */
import { z } from 'zod';
import { defineConnectorSpec } from '../../src/connector/contract.js';

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';

const DURATION = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30m", "24h", "7d" -> milliseconds; "never" -> null (archived records are then listed on full syncs only). */
export function durationMs(s: string): number | null {
  if (s === 'never') return null;
  const m = DURATION.exec(s.trim());
  if (!m) throw new Error(`not a duration: ${s}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const duration = z
  .string()
  .refine((s) => s === 'never' || DURATION.test(s.trim()), { message: 'expected a duration such as "12h", "30m", "7d", or "never"' });

const propertyName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'HubSpot property names are lowercase letters, digits and "_", starting with a letter');

const stageIds = z.array(z.string().min(1));

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const hubspotConfigSchema = z.strictObject({
  name: z.string(),
  type: z.literal('hubspot'),
  /** Private app access token (pat-...), from the environment: ${HUBSPOT_ACCESS_TOKEN}. */
  accessToken: z.string().min(1, 'is empty: set it to the private app token (pat-...)'),
  /** API root; passed to the SDK as basePath. For proxies, sandboxes and tests. */
  baseUrl: z
    .url({ message: 'expected a URL such as https://api.hubapi.com' })
    .default(DEFAULT_BASE_URL)
    .transform((u) => u.replace(/\/+$/, '')),
  /** Extra contact properties to fetch; they land in the contact's properties (features.extra can use them). */
  contactProperties: z.array(propertyName).default([]),
  /** Currency of deals without deal_currency_code (use the portal's company currency). */
  defaultCurrency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 code such as USD').default('USD'),
  /** How deal stages map to won / lost; everything else is open. */
  dealStages: z
    .strictObject({
      /** Stage ids counted as won in every pipeline. */
      won: stageIds.default(['closedwon']),
      /** Stage ids counted as lost in every pipeline. */
      lost: stageIds.default(['closedlost']),
      /** Per pipeline id: its own won / lost stage ids (they replace the lists above for that pipeline). */
      pipelines: z.record(z.string().min(1), z.strictObject({ won: stageIds.default([]), lost: stageIds.default([]) })).default({}),
      /** Stages HubSpot marks closed with probability 1 (won) or 0 (lost) count too, from the pipelines API. */
      usePipelineMetadata: z.boolean().default(true),
    })
    .default({ won: ['closedwon'], lost: ['closedlost'], pipelines: {}, usePipelineMetadata: true }),
  /** How often an incremental sync also lists archived (deleted) records; full syncs always do. */
  archivedCheckInterval: duration.default('24h'),
  /** Client-side request budget, shared by every call of a run. */
  rateLimit: z
    .strictObject({
      requestsPer10s: z.number().int().min(1).max(10_000).default(100),
      searchPerSecond: z.number().int().min(1).max(100).default(4),
    })
    .default({ requestsPer10s: 100, searchPerSecond: 4 }),
  /** The HubSpot account's time zone (IANA), so a daily-limit stop can say exactly when to retry. */
  timeZone: z.string().refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Berlin' }).optional(),
});

export type HubspotConfig = z.infer<typeof hubspotConfigSchema>;

export const hubspotTargetSchema = z.strictObject({
  connector: z.string(),
  /** One MANUAL contact list per segment, named prefix + segment name; `false` for no lists. */
  lists: z
    .union([z.strictObject({ prefix: z.string().default('segsync: ') }), z.literal(false)])
    .default({ prefix: 'segsync: ' }),
  /** Contact property holding the segment (enumeration; option value = segment id, label = name); `false` for none. */
  property: z.union([propertyName, z.literal(false)]).default('segsync_segment'),
  /** Label of the property in HubSpot. */
  propertyLabel: z.string().min(1).default('segsync segment'),
  /** Property group the property is created in (created too when missing). */
  propertyGroup: propertyName.default('segsync'),
}).refine((t) => t.lists !== false || t.property !== false, {
  message: 'lists and property are both false: nothing would be pushed (keep at least one)',
});

export type HubspotTarget = z.infer<typeof hubspotTargetSchema>;

export const hubspotSpec = defineConnectorSpec<HubspotConfig, HubspotTarget>({
  type: 'hubspot',
  configSchema: hubspotConfigSchema,
  targetSchema: hubspotTargetSchema,
  secretKeys: ['accessToken'],
});
