/**
 * zod schemas of the HubSpot shapes this connector reads, as the SDK hands them
 * over (its deserializer turns date-times into Date objects and `from` into
 * `_from`). Every API page is validated here before anything maps it; the
 * schemas are loose objects, so fields HubSpot adds later pass through.
 */
import { z } from 'zod';

/** A date-time as the SDK gives it (Date) or as JSON carries it (string); always an ISO string out. */
export const dateish = z.union([z.date(), z.string()]).transform((d) => (d instanceof Date ? d.toISOString() : d));

/** Record ids: the SDK types them as strings, some endpoints send numbers (safe integers only: 1e300 is no id). */
export const recordId = z.union([z.string().regex(/^\d{1,40}$/, 'expected a numeric record id'), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]).transform(String);

const properties = z.record(z.string(), z.string().nullable());

/** A CRM object of any type: id, properties, timestamps. */
const crmObject = z.looseObject({
  id: recordId,
  properties,
  createdAt: dateish.optional(),
  updatedAt: dateish.optional(),
  archived: z.boolean().optional(),
  archivedAt: dateish.optional(),
});

export const HubspotContact = crmObject;
export type HubspotContact = z.infer<typeof HubspotContact>;

export const HubspotDeal = crmObject;
export type HubspotDeal = z.infer<typeof HubspotDeal>;

/**
 * Only what paging needs. A page is read record by record: one that lacks it
 * still goes to parse(), which quarantines it, and the rest of the page syncs.
 */
export const HubspotRecordHeader = z.looseObject({ id: recordId, properties: properties.optional() });
export type HubspotRecordHeader = z.infer<typeof HubspotRecordHeader>;

const paging = z.looseObject({ next: z.looseObject({ after: z.string() }).optional() }).optional();

/** GET /crm/v3/objects/{type} (basicApi.getPage). */
export const HubspotListPage = z.looseObject({ results: z.array(z.unknown()), paging });
export type HubspotListPage = z.infer<typeof HubspotListPage>;

/** POST /crm/v3/objects/{type}/search (searchApi.doSearch). */
export const HubspotSearchPage = z.looseObject({ total: z.number().int().nonnegative(), results: z.array(z.unknown()), paging });
export type HubspotSearchPage = z.infer<typeof HubspotSearchPage>;

/** A stage's metadata from the pipelines API. */
export const HubspotStageMeta = z.object({ isClosed: z.boolean(), probability: z.number().nullable() });
export type HubspotStageMeta = z.infer<typeof HubspotStageMeta>;

/** What the transactions stream hands to parse(): the deal, its contact ids (v4 associations) and its stage's metadata. */
export const HubspotDealRecord = z.object({
  deal: HubspotDeal,
  contactIds: z.array(z.string()),
  stage: HubspotStageMeta.nullable(),
});
export type HubspotDealRecord = z.infer<typeof HubspotDealRecord>;

/** POST /crm/v4/associations/deals/contacts/batch/read (associations.v4.batchApi.getPage). */
export const HubspotAssociationsPage = z.looseObject({
  results: z.array(
    z.looseObject({
      _from: z.looseObject({ id: recordId }).optional(),
      from: z.looseObject({ id: recordId }).optional(),
      to: z.array(z.looseObject({ toObjectId: recordId })),
      paging,
    }),
  ),
  errors: z.array(z.looseObject({ category: z.string().optional(), message: z.string().optional() })).optional(),
});
export type HubspotAssociationsPage = z.infer<typeof HubspotAssociationsPage>;

/** GET /crm/v3/pipelines/deals (pipelines.pipelinesApi.getAll). */
export const HubspotPipelines = z.looseObject({
  results: z.array(
    z.looseObject({
      id: z.string(),
      label: z.string().optional(),
      stages: z.array(z.looseObject({ id: z.string(), label: z.string().optional(), metadata: z.record(z.string(), z.string()).optional() })),
    }),
  ),
});
export type HubspotPipelines = z.infer<typeof HubspotPipelines>;

export const HubspotOption = z.looseObject({
  label: z.string(),
  value: z.string(),
  hidden: z.boolean().optional(),
  displayOrder: z.number().optional(),
  description: z.string().optional(),
});
export type HubspotOption = z.infer<typeof HubspotOption>;

/** GET /crm/v3/properties/contacts/{name} (properties.coreApi.getByName). */
export const HubspotProperty = z.looseObject({
  name: z.string(),
  label: z.string().optional(),
  type: z.string(),
  fieldType: z.string(),
  groupName: z.string().optional(),
  options: z.array(HubspotOption).default([]),
});
export type HubspotProperty = z.infer<typeof HubspotProperty>;

/** A list as the Lists v3 API returns it. */
export const HubspotList = z.looseObject({
  listId: z.union([z.string(), z.number()]).transform(String),
  name: z.string(),
  processingType: z.string(),
  objectTypeId: z.string(),
  size: z.number().optional(),
  deletedAt: dateish.optional(),
});
export type HubspotList = z.infer<typeof HubspotList>;

export const HubspotListResponse = z.looseObject({ list: HubspotList });
export const HubspotListsById = z.looseObject({ lists: z.array(HubspotList) });
export const HubspotListUpdate = z.looseObject({ updatedList: HubspotList.optional() });

/** PUT /crm/v3/lists/{id}/memberships/add-and-remove. */
export const HubspotMembershipsUpdate = z.looseObject({
  recordIdsMissing: z.array(recordId).default([]),
  recordIdsRemoved: z.array(recordId).default([]),
  recordsIdsAdded: z.array(recordId).default([]),
});
export type HubspotMembershipsUpdate = z.infer<typeof HubspotMembershipsUpdate>;

export const HubspotBatchError = z.looseObject({
  status: z.string().optional(),
  category: z.string().optional(),
  message: z.string().optional(),
  context: z.record(z.string(), z.array(z.string())).optional(),
});
export type HubspotBatchError = z.infer<typeof HubspotBatchError>;

/** POST /crm/v3/objects/contacts/batch/update: 200, or 207 with per-record errors. */
export const HubspotBatchUpdate = z.looseObject({
  status: z.string().optional(),
  results: z.array(z.looseObject({ id: recordId })),
  errors: z.array(HubspotBatchError).optional(),
});
export type HubspotBatchUpdate = z.infer<typeof HubspotBatchUpdate>;

/** POST /crm/v3/objects/{contacts|deals}/batch/read: 200, or 207 with errors for ids not found. */
export const HubspotBatchRead = z.looseObject({
  status: z.string().optional(),
  results: z.array(crmObject),
  errors: z.array(HubspotBatchError).optional(),
});
export type HubspotBatchRead = z.infer<typeof HubspotBatchRead>;

/** POST /oauth/v2/private-apps/get/access-token-info. */
export const HubspotTokenInfo = z.looseObject({
  hubId: z.number(),
  appId: z.number().optional(),
  userId: z.number().optional(),
  scopes: z.array(z.string()),
});
export type HubspotTokenInfo = z.infer<typeof HubspotTokenInfo>;

/** The body of a HubSpot error response (4xx/5xx). */
export const HubspotErrorBody = z.looseObject({
  status: z.string().optional(),
  message: z.string().optional(),
  category: z.string().optional(),
  policyName: z.string().optional(),
  correlationId: z.string().optional(),
  errors: z
    .array(
      z.looseObject({
        message: z.string().optional(),
        context: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
});
export type HubspotErrorBody = z.infer<typeof HubspotErrorBody>;
