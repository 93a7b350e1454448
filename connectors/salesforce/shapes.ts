/**
 * zod schemas of what Salesforce sends. REST returns JSON types; Bulk API 2.0
 * returns CSV text, so booleans and numbers also parse from their text form.
 * Envelopes (query pages, job states, save results) are checked as they arrive
 * and a mismatch is a remote error; records are checked one by one in the
 * stream's parse(), so one bad record goes to quarantine instead of failing.
 */
import { z } from 'zod';
import { RemoteError } from '../../src/core/errors.js';

export const sfBool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
export const sfNumber = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, 'expected a number')
    .transform(Number),
]);
/** 15- or 18-character record id. */
export const sfId = z.string().regex(/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/, 'expected a Salesforce record id');
const text = z.string();

export const SalesforceQueryResult = z.object({
  totalSize: z.number().int().min(0),
  done: z.boolean(),
  nextRecordsUrl: z.string().optional(),
  records: z.array(z.record(z.string(), z.unknown())),
});
export type SalesforceQueryResult = z.infer<typeof SalesforceQueryResult>;

export const SalesforceComposite = z.object({
  compositeResponse: z.array(z.object({ body: z.unknown(), httpStatusCode: z.number(), referenceId: z.string().optional() })),
});

/** Fields every incrementally read row has (checked in read(), they drive the cursor). */
export const SalesforceCursorRow = z.looseObject({ Id: sfId });

const person = {
  Id: sfId,
  CreatedDate: text.nullable().optional(),
  SystemModstamp: text,
  IsDeleted: sfBool.optional(),
  MasterRecordId: sfId.nullable().optional(),
};
export const SalesforceContact = z.looseObject(person);
export type SalesforceContact = z.infer<typeof SalesforceContact>;
export const SalesforceLead = z.looseObject({ ...person, IsConverted: sfBool.optional() });
export type SalesforceLead = z.infer<typeof SalesforceLead>;

/** One OpportunityContactRole row with its Opportunity's fields (child-to-parent). */
export const SalesforceOpportunity = z.looseObject({
  Amount: sfNumber.nullable(),
  CloseDate: text.nullable(),
  StageName: text.nullable().optional(),
  IsWon: sfBool,
  SystemModstamp: text,
  CurrencyIsoCode: text.nullable().optional(),
});
export type SalesforceOpportunity = z.infer<typeof SalesforceOpportunity>;
export const SalesforceOpportunityContactRole = z.looseObject({
  Id: sfId,
  OpportunityId: sfId,
  ContactId: sfId.nullable(),
  IsPrimary: sfBool,
  Opportunity: SalesforceOpportunity,
});
export type SalesforceOpportunityContactRole = z.infer<typeof SalesforceOpportunityContactRole>;

export const SalesforceOrder = z.looseObject({
  Id: sfId,
  SystemModstamp: text,
  IsDeleted: sfBool.optional(),
  TotalAmount: sfNumber.nullable(),
  EffectiveDate: text.nullable(),
  StatusCode: text.nullable().optional(),
  Status: text.nullable().optional(),
  CurrencyIsoCode: text.nullable().optional(),
});
export type SalesforceOrder = z.infer<typeof SalesforceOrder>;

export const PAGE_OBJECTS = ['Contact', 'Lead', 'OpportunityContactRole', 'Order'] as const;
export type PageObject = (typeof PAGE_OBJECTS)[number];

/** What a page record is: the row as Salesforce sent it, with what parse() needs to map it. */
export const SalesforcePageRecord = z.object({
  object: z.enum(PAGE_OBJECTS),
  record: z.record(z.string(), z.unknown()),
  /** The org's currency, for single-currency orgs (rows carry no CurrencyIsoCode). */
  orgCurrency: z.string().optional(),
});
export type SalesforcePageRecord = z.infer<typeof SalesforcePageRecord>;

export const SalesforceError = z.object({ statusCode: text, message: text, fields: z.array(text).optional() });
export const SalesforceSaveResult = z.object({
  id: sfId.nullable().optional(),
  success: z.boolean(),
  errors: z.array(SalesforceError).default([]),
});
export type SalesforceSaveResult = z.infer<typeof SalesforceSaveResult>;
export const SalesforceSaveResults = z.array(SalesforceSaveResult);

export const SalesforceBulkJob = z.looseObject({
  id: text,
  state: z.enum(['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted']),
  errorMessage: text.nullable().optional(),
  numberRecordsProcessed: z.number().optional(),
});
export type SalesforceBulkJob = z.infer<typeof SalesforceBulkJob>;

export const SalesforceDeleted = z.object({
  deletedRecords: z.array(z.object({ id: sfId, deletedDate: text })),
  earliestDateAvailable: text,
  latestDateCovered: text,
});

export const SalesforceDescribeField = z.looseObject({
  name: text,
  type: text,
  updateable: z.boolean().default(false),
  createable: z.boolean().default(false),
  length: z.number().optional(),
  restrictedPicklist: z.boolean().optional(),
  picklistValues: z.array(z.looseObject({ value: text, active: z.boolean().default(true) })).default([]),
});
export type SalesforceDescribeField = z.infer<typeof SalesforceDescribeField>;
export const SalesforceDescribe = z.looseObject({
  name: text,
  queryable: z.boolean().default(true),
  createable: z.boolean().default(false),
  updateable: z.boolean().default(false),
  deletable: z.boolean().default(false),
  fields: z.array(SalesforceDescribeField),
});
export type SalesforceDescribe = z.infer<typeof SalesforceDescribe>;

export const SalesforceLimits = z.looseObject({
  DailyApiRequests: z.looseObject({ Max: z.number(), Remaining: z.number() }),
});

export const SalesforceToken = z.looseObject({
  access_token: text.min(1),
  instance_url: text.optional(),
  id: text.optional(),
});
export type SalesforceToken = z.infer<typeof SalesforceToken>;

export const SalesforceUserInfo = z.looseObject({
  user_id: text,
  organization_id: text,
  preferred_username: text.optional(),
  name: text.optional(),
});

export const SalesforceVersions = z.array(z.looseObject({ version: text }));

export const SalesforceCampaign = z.looseObject({ Id: sfId, Name: text, IsActive: sfBool });
export type SalesforceCampaign = z.infer<typeof SalesforceCampaign>;
export const SalesforceCampaignMember = z.looseObject({
  Id: sfId,
  CampaignId: sfId,
  ContactId: sfId.nullable().optional(),
  LeadId: sfId.nullable().optional(),
});

/** Checks an envelope Salesforce sent; a mismatch means we cannot trust the answer. */
export function expectShape<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const at = i && i.path.length ? ` at ${i.path.join('.')}` : '';
  throw new RemoteError('client', `Salesforce sent an unexpected ${what}${at}: ${i?.message ?? 'invalid'}`, {
    hint: 'check apiVersion and instanceUrl in the connector config',
  });
}
