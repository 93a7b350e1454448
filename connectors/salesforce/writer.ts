/**
 * Segments back into Salesforce:
 * - a Contact (and Lead) field holding the segment name (default Segment__c),
 *   checked with describe and created through the Tooling API when missing and
 *   the user may; values go out through sObject Collections, 200 per call;
 * - one Campaign per segment (prefix + segment name), found by id or name or
 *   created; CampaignMember inserts and deletes from the diff, 200 per call.
 *   DUPLICATE_VALUE on insert means the member is already there: success.
 *   Retired segments' campaigns are deactivated, never deleted.
 * Every op gets its own result; a whole call that fails for a reason of its own
 * (a client error) fails its ops, while limits, auth and exhausted retries stop
 * the push so the outbox resumes it. A record Salesforce says is gone or unknown
 * (ENTITY_IS_DELETED, INVALID_CROSS_REFERENCE_KEY on the person, ...) is a
 * permanent failure of that record: the engine rejects it and goes on.
 */
import type { ListIds, MembershipOp, OpResult, SegmentRef, SegmentWriter, WriterContext } from '../../src/connector/contract.js';
import { RemoteError, UserError } from '../../src/core/errors.js';
import type { SalesforceConfig, SalesforceTarget } from './config.js';
import { clientFor, type SalesforceClient } from './client.js';
import { SalesforceCampaign, SalesforceCampaignMember, type SalesforceSaveResult, sfId } from './shapes.js';
import { quote } from './soql.js';
import { z } from 'zod';

type Ctx = WriterContext<SalesforceConfig, SalesforceTarget>;

const CHUNK = 200;
/** Record ids per lookup query (the SOQL goes in a Composite body: far under its 100,000 characters). */
const LOOKUP_IDS = 1000;
const CAMPAIGN_NAME_MAX = 80;

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Leads have ids starting 00Q; everything else we push to is a Contact. */
export const objectOf = (id: string): 'Contact' | 'Lead' => (id.startsWith('00Q') ? 'Lead' : 'Contact');

const errorText = (r: SalesforceSaveResult): string => r.errors.map((e) => `${e.statusCode}: ${e.message}`).join('; ') || 'failed';
const hasError = (r: SalesforceSaveResult, ...codes: string[]): boolean => r.errors.some((e) => codes.includes(e.statusCode));

/** What Salesforce answers for a record that is deleted, merged away or was never there. */
const GONE = ['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND', 'MALFORMED_ID', 'INVALID_ID_FIELD'];
/**
 * The save failed because the record itself is gone. `about` are the fields that
 * hold it: a bad CampaignId on a member insert is the campaign's problem (the
 * next prepare() finds or makes it again), not the person's.
 */
function recordGone(r: SalesforceSaveResult, about?: readonly string[]): boolean {
  return r.errors.length > 0 && r.errors.every((e) => GONE.includes(e.statusCode) && (about === undefined || !e.fields?.length || e.fields.some((f) => about.includes(f))));
}

/** Client errors fail the ops of one call; everything else stops the push (and is resumed later). */
function isCallLocal(e: unknown): e is RemoteError {
  return e instanceof RemoteError && e.kind === 'client';
}

class Results {
  private readonly errors = new Map<string, string[]>();
  /** permanent only when every failure of the op is (the member insert and the field write fail apart) */
  private readonly permanent = new Map<string, boolean>();
  fail(key: string, msg: string, permanent = false): void {
    const e = this.errors.get(key) ?? [];
    e.push(msg);
    this.errors.set(key, e);
    this.permanent.set(key, (this.permanent.get(key) ?? true) && permanent);
  }
  of(ops: readonly MembershipOp[]): OpResult[] {
    return ops.map((o) => {
      const e = this.errors.get(o.key);
      if (!e?.length) return { key: o.key, ok: true };
      return { key: o.key, ok: false, error: e.join('; '), ...(this.permanent.get(o.key) ? { permanent: true } : {}) };
    });
  }
}

// ------------------------------------------------------------------ field

function fieldLabel(field: string): string {
  return field.replace(/__c$/, '').replace(/_/g, ' ');
}

function createHint(obj: string, t: SalesforceTarget, field: string): string {
  return (
    `create it in Setup > Object Manager > ${obj} > Fields & Relationships: a ${t.fieldType === 'picklist' ? 'Picklist' : 'Text(255)'} field ` +
    `with the API name ${field}, editable by the integration user (field-level security); or give that user the "Customize Application" ` +
    `and "Modify Metadata Through Metadata API Functions" (or "Modify All Data") permissions so segsync creates it`
  );
}

/** The description segsync gives the fields it creates: how it recognizes one of its own later. */
const FIELD_DESCRIPTION = 'Customer segment, written by segsync';

function fieldMetadata(t: SalesforceTarget, field: string, names: readonly string[]): Record<string, unknown> {
  const base = { label: fieldLabel(field), description: FIELD_DESCRIPTION };
  if (t.fieldType === 'text') return { ...base, type: 'Text', length: 255 };
  return {
    ...base,
    type: 'Picklist',
    valueSet: { restricted: false, valueSetDefinition: { sorted: false, value: names.map((n) => ({ fullName: n, label: n, default: false })) } },
  };
}

async function userId(client: SalesforceClient): Promise<string> {
  if (client.identity) return client.identity.userId;
  const r = await client.get('user info', '/services/oauth2/userinfo');
  const u = z.looseObject({ user_id: z.string() }).safeParse(r.body);
  if (!u.success) throw new RemoteError('client', 'Salesforce user info has no user_id');
  return u.data.user_id;
}

/** New fields are hidden from every profile: grant the running user's profile read and edit. */
async function grantFieldAccess(client: SalesforceClient, obj: string, field: string): Promise<void> {
  const uid = await userId(client);
  const users = await client.queryRows('user profile', `SELECT ProfileId FROM User WHERE Id = ${quote(uid)}`, z.looseObject({ ProfileId: sfId }));
  const profile = users[0]?.ProfileId;
  if (!profile) throw new RemoteError('client', `Salesforce: no profile found for user ${uid}`);
  const sets = await client.queryRows(
    'profile permission set',
    `SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = true AND ProfileId = ${quote(profile)}`,
    z.looseObject({ Id: sfId }),
  );
  const ps = sets[0]?.Id;
  if (!ps) throw new RemoteError('client', `Salesforce: no permission set found for profile ${profile}`);
  const [r] = await client.collection('grant field access', 'POST', {
    records: [{ attributes: { type: 'FieldPermissions' }, ParentId: ps, SobjectType: obj, Field: `${obj}.${field}`, PermissionsRead: true, PermissionsEdit: true }],
  });
  if (r && !r.success && !hasError(r, 'DUPLICATE_VALUE')) {
    throw new UserError('CONNECTOR_SCOPE', `created ${obj}.${field} but could not let the user edit it: ${errorText(r)}`, {
      hint: `grant read and edit access to ${obj}.${field} to the integration user's profile or a permission set (Setup > Object Manager > ${obj} > ${fieldLabel(field)} > Set Field-Level Security)`,
    });
  }
}

/** Whether the (hidden) field exists with the description segsync gives its own fields (Tooling API). */
async function isOwnField(client: SalesforceClient, obj: string, field: string): Promise<boolean> {
  const dev = field.replace(/__c$/i, '');
  const soql = `SELECT Id, Description FROM CustomField WHERE TableEnumOrId = ${quote(obj)} AND DeveloperName = ${quote(dev)}`;
  const r = await client.get(`find field ${obj}.${field}`, `/tooling/query?q=${encodeURIComponent(soql)}`);
  const rows = z.looseObject({ records: z.array(z.looseObject({ Description: z.string().nullish() })) }).safeParse(r.body);
  return rows.success && rows.data.records.some((x) => x.Description === FIELD_DESCRIPTION);
}

async function createField(client: SalesforceClient, ctx: Ctx, obj: string, field: string, names: readonly string[]): Promise<void> {
  const t = ctx.target;
  const where = { field: 'push.targets.field' };
  if (!t.createField) {
    throw new UserError('CONNECTOR_SCOPE', `the ${obj} field ${field} does not exist (or the Salesforce user cannot see it), and createField is false`, {
      where,
      hint: createHint(obj, t, field),
    });
  }
  try {
    // a create whose answer was lost (5xx, dropped connection) is sent again: it then meets itself as a duplicate below
    await client.retry.run(
      `create field ${obj}.${field}`,
      () =>
        client.send(`create field ${obj}.${field}`, 'POST', '/tooling/sobjects/CustomField', { FullName: `${obj}.${field}`, Metadata: fieldMetadata(t, field, names) }, {
          idempotent: false,
        }),
      { signal: ctx.signal },
    );
  } catch (e) {
    if (e instanceof RemoteError && e.kind === 'client') {
      if (/DUPLICATE_DEVELOPER_NAME|DUPLICATE_VALUE|already (exists|in use)/i.test(e.message)) {
        // One we made whose access grant never happened (its answer was lost, or the run was
        // killed between the two calls): finish the job. Anyone else's field is theirs to open up.
        if (await isOwnField(client, obj, field)) {
          await grantFieldAccess(client, obj, field);
          client.forgetDescribe(obj);
          return;
        }
        throw new UserError('CONNECTOR_SCOPE', `the ${obj} field ${field} exists but the Salesforce user cannot see or edit it`, {
          where,
          hint: `grant read and edit access to ${obj}.${field} to the integration user's profile or a permission set (field-level security)`,
          cause: e,
        });
      }
      if (e.status === 403 || /INSUFFICIENT_ACCESS|NOT_AUTHORIZED|insufficient|not allowed|permission/i.test(e.message)) {
        throw new UserError('CONNECTOR_SCOPE', `the ${obj} field ${field} does not exist and the Salesforce user may not create it`, {
          where,
          hint: createHint(obj, t, field),
          cause: e,
        });
      }
    }
    throw e;
  }
  ctx.logger.info({ object: obj, field, type: t.fieldType }, `salesforce: created the field ${obj}.${field}`);
  await grantFieldAccess(client, obj, field);
  client.forgetDescribe(obj);
}

/** The field exists on each object we write, has a usable type, takes every segment name, and the user may edit it. */
async function ensureField(client: SalesforceClient, ctx: Ctx, field: string, names: readonly string[]): Promise<void> {
  const objects = ctx.config.includeLeads ? ['Contact', 'Lead'] : ['Contact'];
  const where = { field: 'push.targets.field' };
  for (const obj of objects) {
    let f = (await client.describe(obj)).fields.find((x) => x.name.toLowerCase() === field.toLowerCase());
    if (!f) {
      await createField(client, ctx, obj, field, names);
      f = (await client.describe(obj)).fields.find((x) => x.name.toLowerCase() === field.toLowerCase());
      if (!f) {
        throw new UserError('CONNECTOR_SCOPE', `created ${obj}.${field} but the Salesforce user still cannot see it`, {
          where,
          hint: `grant read and edit access to ${obj}.${field} to the integration user (field-level security)`,
        });
      }
    }
    if (!f.updateable) {
      throw new UserError('CONNECTOR_SCOPE', `the Salesforce user may not edit ${obj}.${field}`, {
        where,
        hint: `grant edit access to ${obj}.${field} to the integration user's profile or a permission set (field-level security), and make sure the field is not a formula`,
      });
    }
    if (f.type !== 'picklist' && f.type !== 'string') {
      throw new UserError('CONFIG_INVALID', `${obj}.${field} is a ${f.type} field; segment names need a Picklist or Text field`, { where, hint: 'name another field in push.targets.field' });
    }
    const longest = names.reduce((a, n) => (n.length > a.length ? n : a), '');
    if (f.type === 'string' && f.length !== undefined && longest.length > f.length) {
      throw new UserError('CONFIG_INVALID', `${obj}.${field} holds ${f.length} characters; the segment name "${longest}" has ${longest.length}`, { where, hint: 'make the field longer' });
    }
    if (f.type === 'picklist' && f.restrictedPicklist) {
      const have = new Set(f.picklistValues.filter((v) => v.active).map((v) => v.value));
      const missing = names.filter((n) => !have.has(n));
      if (missing.length) {
        throw new UserError('CONNECTOR_SCOPE', `${obj}.${field} is a restricted picklist without the values ${missing.map((m) => `"${m}"`).join(', ')}`, {
          where,
          hint: `add these values to the picklist, or untick "Restrict picklist to the values defined in the value set" on ${obj}.${field}`,
        });
      }
    }
  }
}

/** After a segment rename, the records still holding its old name get the new one. */
async function renameFieldValues(client: SalesforceClient, ctx: Ctx, field: string, renames: readonly { from: string; to: string }[]): Promise<void> {
  const objects = ctx.config.includeLeads ? ['Contact', 'Lead'] : ['Contact'];
  for (const { from, to } of renames) {
    for (const obj of objects) {
      const rows = await client.queryRows(`${obj} with segment "${from}"`, `SELECT Id FROM ${obj} WHERE ${field} = ${quote(from)}`, z.looseObject({ Id: sfId }));
      for (const c of chunks(rows, CHUNK)) {
        const res = await client.collection(`rename segment on ${obj}`, 'PATCH', { records: c.map((r) => ({ attributes: { type: obj }, Id: r.Id, [field]: to })) });
        const bad = res.filter((r) => !r.success).length;
        if (bad) ctx.logger.warn({ object: obj, from, to, failed: bad }, `salesforce: ${bad} records kept the old segment name`);
      }
      if (rows.length) ctx.logger.info({ object: obj, from, to, records: rows.length }, 'salesforce: segment renamed on records');
    }
  }
}

// ------------------------------------------------------------------ campaigns

const campaignName = (prefix: string, s: SegmentRef): string => `${prefix}${s.name}`.slice(0, CAMPAIGN_NAME_MAX);

async function ensureCampaigns(
  client: SalesforceClient,
  ctx: Ctx,
  prefix: string,
  segments: readonly SegmentRef[],
  known: ListIds,
): Promise<{ ids: ListIds; renames: { from: string; to: string }[] }> {
  const active = segments.filter((s) => !s.retired);
  const knownIds = [...new Set(segments.map((s) => known[s.id]).filter((id): id is string => id !== undefined && sfId.safeParse(id).success))];
  const names = [...new Set(active.map((s) => campaignName(prefix, s)))];
  const where = [knownIds.length ? `Id IN (${knownIds.map(quote).join(', ')})` : '', names.length ? `Name IN (${names.map(quote).join(', ')})` : '']
    .filter(Boolean)
    .join(' OR ');
  const rows = where ? await client.queryRows('campaigns', `SELECT Id, Name, IsActive FROM Campaign WHERE ${where} ORDER BY CreatedDate, Id`, SalesforceCampaign) : [];
  const byId = new Map(rows.map((r) => [r.Id, r]));
  const byName = new Map<string, SalesforceCampaign>();
  for (const r of rows) if (!byName.has(r.Name)) byName.set(r.Name, r);

  const ids: ListIds = {};
  const updates = new Map<string, Record<string, unknown>>();
  const update = (id: string, patch: Record<string, unknown>): void => {
    updates.set(id, { ...(updates.get(id) ?? { attributes: { type: 'Campaign' }, Id: id }), ...patch });
  };
  const renames: { from: string; to: string }[] = [];
  const create: SegmentRef[] = [];
  for (const s of active) {
    const want = campaignName(prefix, s);
    const knownId = known[s.id];
    let c = knownId !== undefined ? byId.get(knownId) : undefined;
    if (c && c.Name !== want) {
      update(c.Id, { Name: want });
      if (c.Name.startsWith(prefix)) renames.push({ from: c.Name.slice(prefix.length), to: s.name });
    }
    c ??= byName.get(want);
    if (!c) {
      create.push(s);
      continue;
    }
    ids[s.id] = c.Id;
    if (!c.IsActive) update(c.Id, { IsActive: true });
  }
  for (const s of segments.filter((x) => x.retired)) {
    const c = known[s.id] !== undefined ? byId.get(known[s.id] as string) : undefined;
    if (!c) continue;
    ids[s.id] = c.Id;
    if (c.IsActive) update(c.Id, { IsActive: false });
  }

  for (const batch of chunks(create, CHUNK)) {
    // A create is never sent twice blindly (a second campaign of the same name), but a 5xx or a
    // dropped connection may hide one that was made: each retry first looks the names up again.
    await client.retry.run(
      'create campaigns',
      async (attempt) => {
        let todo = batch.filter((s) => ids[s.id] === undefined);
        if (attempt > 1) {
          const names = todo.map((s) => quote(campaignName(prefix, s))).join(', ');
          const made = await client.queryRows('campaigns', `SELECT Id, Name, IsActive FROM Campaign WHERE Name IN (${names}) ORDER BY CreatedDate, Id`, SalesforceCampaign);
          for (const s of todo) {
            const c = made.find((r) => r.Name === campaignName(prefix, s));
            if (c) ids[s.id] = c.Id;
          }
          todo = todo.filter((s) => ids[s.id] === undefined);
          if (todo.length === 0) return;
        }
        const res = await client.collection(
          'create campaigns',
          'POST',
          { records: todo.map((s) => ({ attributes: { type: 'Campaign' }, Name: campaignName(prefix, s), IsActive: true, Description: s.description.slice(0, 32_000) })) },
          { idempotent: false },
        );
        res.forEach((r, i) => {
          const s = todo[i] as SegmentRef;
          if (r.success && r.id) {
            ids[s.id] = r.id;
            return;
          }
          throw new UserError('CONNECTOR_SCOPE', `Salesforce would not create the campaign "${campaignName(prefix, s)}": ${errorText(r)}`, {
            where: { field: 'push.targets.campaigns' },
            hint: 'the Salesforce user needs the "Marketing User" checkbox on their user record and Create and Edit on Campaigns; or set campaigns: false to push the field only',
          });
        });
      },
      { signal: ctx.signal },
    );
  }
  for (const batch of chunks([...updates.values()], CHUNK)) {
    const res = await client.collection('update campaigns', 'PATCH', { records: batch });
    res.forEach((r, i) => {
      if (!r.success) ctx.logger.warn({ campaign: batch[i]?.Id, error: errorText(r) }, 'salesforce: could not update a campaign (name or active flag)');
    });
  }
  return { ids, renames };
}

async function removeMembers(client: SalesforceClient, ops: readonly MembershipOp[], out: Results): Promise<void> {
  const byPair = new Map<string, MembershipOp[]>();
  for (const o of ops) {
    const k = `${o.listId}|${o.externalId}`;
    byPair.set(k, [...(byPair.get(k) ?? []), o]);
  }
  const campaigns = [...new Set(ops.map((o) => o.listId as string))];
  const memberIds = new Map<string, string[]>();
  // the member ids, by contact (or lead) and campaign: all lookups of the batch in one Composite call
  const lookups: string[] = [];
  for (const obj of ['Contact', 'Lead'] as const) {
    const people = [...new Set(ops.filter((o) => objectOf(o.externalId) === obj).map((o) => o.externalId))];
    const col = obj === 'Lead' ? 'LeadId' : 'ContactId';
    for (const c of chunks(people, LOOKUP_IDS)) {
      lookups.push(`SELECT Id, CampaignId, ContactId, LeadId FROM CampaignMember WHERE CampaignId IN (${campaigns.map(quote).join(', ')}) AND ${col} IN (${c.map(quote).join(', ')})`);
    }
  }
  try {
    for (const rows of await client.queryMany('campaign members to remove', lookups, SalesforceCampaignMember)) {
      for (const r of rows) {
        const k = `${r.CampaignId}|${r.ContactId ?? r.LeadId ?? ''}`;
        memberIds.set(k, [...(memberIds.get(k) ?? []), r.Id]);
      }
    }
  } catch (e) {
    if (!isCallLocal(e)) throw e;
    for (const o of ops) out.fail(o.key, `campaign member lookup: ${e.message}`);
    return;
  }
  // members not found are already gone: nothing to do for them
  const toDelete: { id: string; ops: MembershipOp[] }[] = [];
  for (const [k, os] of byPair) for (const id of memberIds.get(k) ?? []) toDelete.push({ id, ops: os });
  for (const c of chunks(toDelete, CHUNK)) {
    try {
      const res = await client.collection('remove campaign members', 'DELETE', { ids: c.map((x) => x.id) });
      res.forEach((r, i) => {
        if (r.success || hasError(r, 'ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY')) return;
        for (const o of c[i]?.ops ?? []) out.fail(o.key, `campaign member ${c[i]?.id}: ${errorText(r)}`);
      });
    } catch (e) {
      if (!isCallLocal(e)) throw e;
      for (const x of c) for (const o of x.ops) out.fail(o.key, `remove campaign member: ${e.message}`);
    }
  }
}

async function addMembers(client: SalesforceClient, ops: readonly MembershipOp[], out: Results): Promise<void> {
  for (const c of chunks(ops, CHUNK)) {
    const records = c.map((o) => ({ attributes: { type: 'CampaignMember' }, CampaignId: o.listId, [objectOf(o.externalId) === 'Lead' ? 'LeadId' : 'ContactId']: o.externalId }));
    try {
      // a member sent twice answers DUPLICATE_VALUE, which counts as success: safe to repeat
      const res = await client.collection('add campaign members', 'POST', { records }, { idempotent: true });
      res.forEach((r, i) => {
        const o = c[i] as MembershipOp;
        if (r.success || hasError(r, 'DUPLICATE_VALUE')) return;
        const person = objectOf(o.externalId) === 'Lead' ? 'LeadId' : 'ContactId';
        out.fail(o.key, `${objectOf(o.externalId).toLowerCase()} ${o.externalId} into campaign ${o.listId}: ${errorText(r)}`, recordGone(r, [person]));
      });
    } catch (e) {
      if (!isCallLocal(e)) throw e;
      for (const o of c) out.fail(o.key, `add campaign member: ${e.message}`);
    }
  }
}

// ------------------------------------------------------------------ field values

async function writeField(client: SalesforceClient, field: string, ops: readonly MembershipOp[], out: Results): Promise<void> {
  // per record, the value after this batch's ops in order: a move (remove then add) is one update
  const finals = new Map<string, { value: string | null; added: boolean; keys: string[] }>();
  for (const o of ops) {
    const e = finals.get(o.externalId) ?? { value: null, added: false, keys: [] };
    if (o.op === 'add') {
      e.value = o.segmentName;
      e.added = true;
    } else if (!e.added || e.value === o.segmentName) {
      e.value = null;
      e.added = false;
    }
    e.keys.push(o.key);
    finals.set(o.externalId, e);
  }
  const entries = [...finals];
  for (const c of chunks(entries, CHUNK)) {
    const records = c.map(([id, e]) => ({ attributes: { type: objectOf(id) }, Id: id, [field]: e.value }));
    try {
      const res = await client.collection(`write ${field}`, 'PATCH', { records });
      res.forEach((r, i) => {
        const [id, e] = c[i] as [string, { value: string | null; keys: string[] }];
        if (r.success) return;
        // clearing the field of a record that is gone is done
        if (e.value === null && hasError(r, 'ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND')) return;
        for (const k of e.keys) out.fail(k, `${objectOf(id).toLowerCase()} ${id}: ${field}: ${errorText(r)}`, recordGone(r));
      });
    } catch (e) {
      if (!isCallLocal(e)) throw e;
      for (const [, x] of c) for (const k of x.keys) out.fail(k, `write ${field}: ${e.message}`);
    }
  }
}

export const salesforceWriter: SegmentWriter<SalesforceConfig, SalesforceTarget> = {
  // ten collection calls of 200 per kind of write: few part-filled calls at batch edges
  maxBatch: 2000,
  location(target) {
    const parts: string[] = [];
    if (target.campaigns) parts.push(`campaigns "${target.campaigns.prefix}<segment>"`);
    if (target.field) parts.push(`the Contact field ${target.field}`);
    return `Salesforce ${parts.join(' and ') || '(nothing configured)'}`;
  },
  async prepare(ctx, segments, known) {
    const client = clientFor(ctx);
    const t = ctx.target;
    const active = segments.filter((s) => !s.retired);
    let ids: ListIds = {};
    let renames: { from: string; to: string }[] = [];
    if (t.campaigns) {
      ({ ids, renames } = await ensureCampaigns(client, ctx, t.campaigns.prefix, segments, known));
    } else {
      // without campaigns the handle is the segment name: a changed name is a rename
      for (const s of active) {
        ids[s.id] = s.name;
        const before = known[s.id];
        if (before !== undefined && before !== s.name && !sfId.safeParse(before).success) renames.push({ from: before, to: s.name });
      }
    }
    if (t.field) {
      await ensureField(client, ctx, t.field, active.map((s) => s.name));
      if (renames.length) await renameFieldValues(client, ctx, t.field, renames);
    }
    return ids;
  },
  async apply(ctx, ops) {
    const client = clientFor(ctx);
    const t = ctx.target;
    const out = new Results();
    if (t.campaigns) {
      const removes = ops.filter((o) => o.op === 'remove' && o.listId !== undefined);
      const adds = ops.filter((o) => o.op === 'add');
      for (const o of adds) if (o.listId === undefined) out.fail(o.key, `no campaign for segment "${o.segmentName}"`);
      await removeMembers(client, removes, out);
      await addMembers(client, adds.filter((o) => o.listId !== undefined), out);
    }
    if (t.field) await writeField(client, t.field, ops, out);
    return out.of(ops);
  },
};
