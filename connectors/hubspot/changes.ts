/**
 * The HubSpot change feed: webhooks in (webhooks.ts), then a targeted re-read
 * of the contacts they name and of those contacts' deals, with batch calls:
 *
 *   contacts   POST /crm/v3/objects/contacts/batch/read       100 ids per call
 *   deal ids   POST /crm/v4/associations/contacts/deals/batch/read   1,000 per call
 *   deals      POST /crm/v3/objects/deals/batch/read          100 ids per call
 *   contacts of those deals (a deal counts for its lowest contact id), and the
 *   pipelines' stage metadata when a stage is not in the configured lists
 *
 * The records come back raw, for the streams' own parse(), so a webhook run
 * maps and quarantines exactly as a sync does.
 */
import type { ChangeFeed, ConnectorContext, FetchedChanges } from '../../src/connector/contract.js';
import type { HubspotConfig } from './config.js';
import { hubspotApi, type HubspotApi } from './client.js';
import { DEAL_PROPERTIES, contactProperties, mergedAwayIds } from './map.js';
import { HubspotBatchRead, type HubspotStageMeta } from './shapes.js';
import { associated, configuredStage, dealContacts, parsePage, stageMeta } from './streams.js';
import { parseWebhookBody, verifyV3 } from './webhooks.js';

/** Ids per batch read (the API's maximum). */
export const BATCH_READ = 100;

type CrmObject = HubspotBatchRead['results'][number];

async function batchRead(api: HubspotApi, type: 'contacts' | 'deals', ids: readonly string[], properties: string[]): Promise<CrmObject[]> {
  const out: CrmObject[] = [];
  const label = `read ${type} by id`;
  const scope = type === 'contacts' ? 'crm.objects.contacts.read' : 'crm.objects.deals.read';
  for (let i = 0; i < ids.length; i += BATCH_READ) {
    const body = { inputs: ids.slice(i, i + BATCH_READ).map((id) => ({ id })), properties, propertiesWithHistory: [] };
    const page = parsePage(
      HubspotBatchRead,
      await api.call(label, (sdk) => (type === 'contacts' ? sdk.crm.contacts.batchApi.read(body, false) : sdk.crm.deals.batchApi.read(body, false)), { scope }),
      label,
    );
    // ids HubSpot does not have come back as errors (207): simply absent from results
    out.push(...page.results);
  }
  return out;
}

export async function fetchChanges(ctx: ConnectorContext<HubspotConfig>, externalIds: readonly string[]): Promise<FetchedChanges> {
  const api = hubspotApi(ctx);
  const ids = [...new Set(externalIds)];
  const contacts = await batchRead(api, 'contacts', ids, contactProperties(ctx.config));
  const found = new Set(contacts.map((c) => c.id));
  const gone = new Set(ids.filter((id) => !found.has(id)));
  for (const c of contacts) for (const m of mergedAwayIds(c.id, c.properties)) gone.add(m);
  if (contacts.length === 0 || ctx.signal.aborted) return { contacts, transactions: [], gone: [...gone] };

  const byContact = await associated(api, 'contacts', 'deals', [...found]);
  const dealIds = [...new Set([...byContact.values()].flat())];
  if (dealIds.length === 0) return { contacts, transactions: [], gone: [...gone] };
  const deals = await batchRead(api, 'deals', dealIds, [...DEAL_PROPERTIES]);
  const owners = await dealContacts(api, deals.map((d) => d.id));
  let stages: Map<string, HubspotStageMeta> | undefined;
  if (ctx.config.dealStages.usePipelineMetadata && deals.some((d) => !configuredStage(ctx.config.dealStages, d.properties))) stages = await stageMeta(api);
  const transactions = deals.map((d) => ({
    deal: d,
    contactIds: owners.get(d.id) ?? [],
    stage: stages?.get(`${d.properties.pipeline ?? ''}\u0000${d.properties.dealstage ?? ''}`) ?? null,
  }));
  return { contacts, transactions, gone: [...gone] };
}

export const hubspotChanges: ChangeFeed<HubspotConfig> = {
  verify: verifyV3,
  parse: parseWebhookBody,
  fetch: fetchChanges,
};
