/**
 * The Salesforce connector's config entry and push target. Every key is
 * documented in connectors/salesforce/README.md. Objects are strict: an unknown
 * key is an error with its path and a "did you mean". Schemas only: no jsforce
 * here (see ConnectorSpec).
 */
import { z } from 'zod';
import { defineConnectorSpec } from '../../src/connector/contract.js';

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';

/** A field API name, optionally through parent relationships: Email, Account.Name, Owner.Profile.Name. */
const fieldName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/, 'expected a Salesforce field API name such as Email or Account.Name');

const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, 'expected a URL such as https://acme.my.salesforce.com (scheme and host only)')
  .transform((u) => u.replace(/\/$/, ''));

const isoCurrency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 code such as USD');

/** Canonical contact field -> the Salesforce field it is read from; null leaves it empty. */
function personFields(d: { company: string; country: string; lifecycleStage: string | null }) {
  return z
    .strictObject({
      email: fieldName.nullable().default('Email'),
      firstName: fieldName.nullable().default('FirstName'),
      lastName: fieldName.nullable().default('LastName'),
      company: fieldName.nullable().default(d.company),
      country: fieldName.nullable().default(d.country),
      lifecycleStage: fieldName.nullable().default(d.lifecycleStage),
    })
    .prefault({});
}

const personSchema = (d: { company: string; country: string; lifecycleStage: string | null }) =>
  z
    .strictObject({
      /** Where each canonical field comes from. */
      fields: personFields(d),
      /** Further fields kept as contact properties (numbers as numbers), usable as features. */
      properties: z.array(fieldName).default(['LeadSource']),
    })
    .prefault({});

const oauthSchema = z.strictObject({
  loginUrl: httpUrl.default(DEFAULT_LOGIN_URL),
  clientId: z.string().min(1),
  /** Optional for connected apps that do not require the secret on refresh. */
  clientSecret: z.string().min(1).optional(),
  refreshToken: z.string().min(1),
});

const jwtSchema = z
  .strictObject({
    loginUrl: httpUrl.default(DEFAULT_LOGIN_URL),
    clientId: z.string().min(1),
    username: z.string().min(1),
    /** PEM private key (from an env var: `privateKey: ${SALESFORCE_JWT_KEY}`); literal "\n" sequences are accepted. */
    privateKey: z.string().min(1).optional(),
    /** PEM file, relative to the config file. */
    privateKeyFile: z.string().min(1).optional(),
  })
  .superRefine((j, ctx) => {
    if ((j.privateKey === undefined) === (j.privateKeyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'set exactly one of privateKey (PEM text, from an env var) or privateKeyFile' });
    }
  });

export const salesforceConfigSchema = z
  .strictObject({
    name: z.string(),
    type: z.literal('salesforce'),
    /** https://<domain>.my.salesforce.com; required with accessToken, otherwise taken from the token response. */
    instanceUrl: httpUrl.optional(),
    /** A session id / OAuth access token; cannot be refreshed. */
    accessToken: z.string().min(1).optional(),
    /** OAuth 2.0 refresh-token flow of a connected app. */
    oauth: oauthSchema.optional(),
    /** OAuth 2.0 JWT bearer flow of a connected app (server to server). */
    jwt: jwtSchema.optional(),
    /** REST API version used for every call. */
    apiVersion: z.preprocess(
      (v) => (typeof v === 'number' ? v.toFixed(1) : v),
      z.string().regex(/^\d{2,3}\.0$/, 'expected an API version such as "62.0"'),
    ).default('62.0'),
    contacts: personSchema({ company: 'Account.Name', country: 'MailingCountry', lifecycleStage: null }),
    /** Also read Leads (as contacts; converted leads are removed). */
    includeLeads: z.boolean().default(false),
    leads: personSchema({ company: 'Company', country: 'Country', lifecycleStage: 'Status' }),
    transactions: z
      .strictObject({
        /** opportunities: won Opportunities through OpportunityContactRole; orders: activated Orders. */
        source: z.enum(['opportunities', 'orders']).default('opportunities'),
        /** Currency of amounts in a single-currency org (read from the org when omitted). */
        currency: isoCurrency.optional(),
        /** Order field naming the contact (source: orders). */
        orderContactField: fieldName.default('BillToContactId'),
      })
      .prefault({}),
    /** How deletions are found: queryAll (IsDeleted rows, with merges) or the getDeleted endpoint. */
    deletions: z.enum(['queryAll', 'getDeleted']).default('queryAll'),
    /** Reads of more rows than this use a Bulk API 2.0 query job instead of REST pages. */
    bulkThreshold: z.number().int().min(0).default(50_000),
    /** Share of the daily API calls left when a job starts that the job may spend. */
    maxApiShare: z.number().gt(0).max(1).default(0.5),
    /** Per-request timeout. */
    requestTimeoutSeconds: z.number().int().min(5).max(3600).default(300),
  })
  .superRefine((c, ctx) => {
    const auth = (['accessToken', 'oauth', 'jwt'] as const).filter((k) => c[k] !== undefined);
    if (auth.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: auth.length ? [auth[1] ?? auth[0] ?? 'accessToken'] : ['accessToken'],
        message: auth.length
          ? `set only one of accessToken, oauth or jwt (found ${auth.join(' and ')})`
          : 'set one of accessToken (with instanceUrl), oauth { clientId, clientSecret, refreshToken } or jwt { clientId, username, privateKey }',
      });
    }
    for (const [path, url] of [['instanceUrl', c.instanceUrl], ['oauth', c.oauth?.loginUrl], ['jwt', c.jwt?.loginUrl]] as const) {
      if (url && /\.lightning\.force\.com$/i.test(url)) {
        ctx.addIssue({ code: 'custom', path: path === 'instanceUrl' ? [path] : [path, 'loginUrl'], message: 'use the My Domain URL (https://<domain>.my.salesforce.com), not the Lightning one (.lightning.force.com)' });
      }
    }
    if (c.accessToken !== undefined && c.instanceUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['instanceUrl'], message: 'is required with accessToken (e.g. https://acme.my.salesforce.com)' });
    }
  });

export type SalesforceConfig = z.infer<typeof salesforceConfigSchema>;
export type PersonConfig = SalesforceConfig['contacts'];

/** Secret keys of the entry (also caught by the config loader's key-name rule). */
export const SECRET_KEYS = ['accessToken', 'oauth.clientSecret', 'oauth.refreshToken', 'jwt.privateKey'] as const;

/** A custom field API name on Contact (and Lead). */
const customField = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*__c$/, 'expected a custom field API name ending in __c, such as Segment__c');

export const salesforceTargetSchema = z.strictObject({
  connector: z.string(),
  /** One Campaign per segment named prefix + segment name; false to push no campaigns. */
  campaigns: z
    .union([z.literal(false), z.strictObject({ prefix: z.string().max(40).default('segsync: ') })])
    .default({ prefix: 'segsync: ' }),
  /** Contact (and Lead) field holding the segment name; false to write no field. */
  field: z.union([z.literal(false), customField]).default('Segment__c'),
  /** Type of the field when segsync creates it. */
  fieldType: z.enum(['picklist', 'text']).default('picklist'),
  /** Create the field through the Tooling API when it is missing (needs Customize Application). */
  createField: z.boolean().default(true),
});

export type SalesforceTarget = z.infer<typeof salesforceTargetSchema>;

export const salesforceSpec = defineConnectorSpec<SalesforceConfig, SalesforceTarget>({
  type: 'salesforce',
  configSchema: salesforceConfigSchema,
  targetSchema: salesforceTargetSchema,
  secretKeys: SECRET_KEYS,
});
