/**
 * The HubSpot change feed: webhooks in (webhooks.ts), then a targeted re-read
 * of the deals and contacts they name, the contact each deal counts for, and
 * every deal of those contacts, with batch calls:
 *
 *   deals      POST /crm/v3/objects/deals/batch/read          (the changed ones first)
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
import { DEAL_PROPERTIES, contactProperties, mergedAwayIds, primaryContact } from './map.js';
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

export async function fetchChanges(ctx: ConnectorContext<HubspotConfig>, ids: { contacts: readonly string[]; transactions: readonly string[] }): Promise<FetchedChanges> {
  const api = hubspotApi(ctx);
  const deals = new Map<string, CrmObject>();
  const owners = new Map<string, string[]>();
  const goneTx = new Set<string>();
  const readDeals = async (want: readonly string[]): Promise<CrmObject[]> => {
    const got = await batchRead(api, 'deals', want, [...DEAL_PROPERTIES]);
    for (const d of got) deals.set(d.id, d);
    for (const [deal, cs] of await dealContacts(api, got.map((d) => d.id))) owners.set(deal, cs);
    return got;
  };

  // changed deals first: the contact each counts for is re-read too, with its other deals (its features change)
  const contactIds = new Set(ids.contacts);
  const wanted = [...new Set(ids.transactions)];
  if (wanted.length) {
    const got = await readDeals(wanted);
    const found = new Set(got.map((d) => d.id));
    for (const id of wanted) if (!found.has(id)) goneTx.add(id);
    for (const d of got) {
      for (const m of mergedAwayIds(d.id, d.properties)) goneTx.add(m);
      const owner = primaryContact(owners.get(d.id) ?? []);
      if (owner !== undefined) contactIds.add(owner);
    }
  }

  const askedContacts = [...contactIds];
  const contacts = askedContacts.length ? await batchRead(api, 'contacts', askedContacts, contactProperties(ctx.config)) : [];
  const found = new Set(contacts.map((c) => c.id));
  const gone = new Set(askedContacts.filter((id) => !found.has(id)));
  for (const c of contacts) for (const m of mergedAwayIds(c.id, c.properties)) gone.add(m);
  if (contacts.length && !ctx.signal.aborted) {
    const byContact = await associated(api, 'contacts', 'deals', [...found]);
    const more = [...new Set([...byContact.values()].flat())].filter((id) => !deals.has(id));
    if (more.length) await readDeals(more);
  }

  let stages: Map<string, HubspotStageMeta> | undefined;
  const all = [...deals.values()];
  if (ctx.config.dealStages.usePipelineMetadata && all.some((d) => !configuredStage(ctx.config.dealStages, d.properties))) stages = await stageMeta(api);
  const transactions = all.map((d) => ({
    deal: d,
    contactIds: owners.get(d.id) ?? [],
    stage: stages?.get(`${d.properties.pipeline ?? ''}\u0000${d.properties.dealstage ?? ''}`) ?? null,
  }));
  return { contacts, transactions, gone: [...gone], goneTransactions: [...goneTx] };
}

export const hubspotChanges: ChangeFeed<HubspotConfig> = {
  verify: verifyV3,
  parse: parseWebhookBody,
  fetch: fetchChanges,
};
