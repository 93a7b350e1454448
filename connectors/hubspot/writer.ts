/**
 * Segments into HubSpot: one MANUAL contact list per segment (Lists v3) and an
 * enumeration contact property whose option values are the stable segment ids
 * and whose labels are the segment names (a rename changes a label, never a
 * contact's value).
 *
 * prepare(): the property exists with one option per segment (retired ones
 * hidden and labelled "(retired)"); every active segment has its list (the
 * known id from the store, else found by name, else created); a renamed
 * segment's list is renamed; a retired segment's list is emptied and renamed
 * "(retired)".
 * apply(): memberships through add-and-remove per list (1,000 ids per call),
 * property values through batch update (100 per call); per-record failures
 * (207 errors, ids HubSpot reports missing) come back as OpResult ok:false and
 * are retried on the next push. A contact HubSpot does not have (deleted or
 * merged since the sync: recordIdsMissing, OBJECT_NOT_FOUND) is a permanent
 * failure of that record, and a call refused as a whole for contacts it names
 * is sent again without them, so one deleted contact holds up no other.
 */
import type { Client } from '@hubspot/api-client';
import type { ListIds, MembershipOp, OpResult, SegmentRef, SegmentWriter, WriterContext } from '../../src/connector/contract.js';
import { RemoteError, UserError } from '../../src/core/errors.js';
import { HubspotHttpError, hubspotApi, type HubspotApi } from './client.js';
import type { HubspotConfig, HubspotTarget } from './config.js';
import {
  HubspotBatchError,
  HubspotBatchUpdate,
  HubspotListResponse,
  HubspotListsById,
  HubspotListUpdate,
  HubspotMembershipsUpdate,
  HubspotProperty,
  type HubspotList,
  type HubspotOption,
} from './shapes.js';
import type { z } from 'zod';

/** Ids per add-and-remove call (adds and removes together). */
export const LIST_MEMBERSHIP_CHUNK = 1_000;
/** Inputs per contacts batch update (the API's maximum). */
export const BATCH_UPDATE_CHUNK = 100;
/** Lists per "get lists by id" call. */
const LISTS_BY_ID_CHUNK = 100;
/** HubSpot's object type id for contacts. */
const CONTACTS_TYPE = '0-1';

type Ctx = WriterContext<HubspotConfig, HubspotTarget>;
type PropertyCreate = Parameters<Client['crm']['properties']['coreApi']['create']>[1];
type PropertyUpdate = Parameters<Client['crm']['properties']['coreApi']['update']>[2];
type OptionInput = NonNullable<PropertyCreate['options']>[number];

/** What prepare() learned that apply() needs, per push (the engine passes the same context to both). */
const prepared = new WeakMap<Ctx, { emptied: Set<string> }>();

function parse<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const detail = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  throw new RemoteError('client', `${label}: HubSpot sent an answer this connector does not understand (${detail})`);
}

export const retiredLabel = (name: string): string => `${name} (retired)`;

/**
 * Runs a create-or-find step again after a 5xx or a dropped connection. The create
 * itself is not repeated blindly (idempotent: false), but its answer may be lost
 * after HubSpot made the object: the step as a whole is safe to repeat because a
 * second create meets the first one ("already exists") and then finds it.
 */
function repeatable<T>(ctx: Ctx, label: string, step: () => Promise<T>): Promise<T> {
  return ctx.retry.run(label, step, { signal: ctx.signal });
}

/** The property's options: one per active segment, retired ones kept hidden, anyone else's options untouched. */
export function desiredOptions(segments: readonly SegmentRef[], existing: readonly HubspotOption[]): OptionInput[] {
  const ours = new Map(segments.map((s) => [s.id, s] as const));
  const have = new Set(existing.map((o) => o.value));
  const out: OptionInput[] = [];
  let order = 0;
  for (const s of segments) {
    if (s.retired) continue;
    out.push({ label: s.name, value: s.id, hidden: false, displayOrder: order++ });
  }
  for (const s of segments) {
    if (!s.retired || !have.has(s.id)) continue;
    out.push({ label: retiredLabel(s.name), value: s.id, hidden: true, displayOrder: order++ });
  }
  for (const o of existing) {
    if (ours.has(o.value)) continue;
    out.push({ label: o.label, value: o.value, hidden: o.hidden ?? false, ...(o.displayOrder !== undefined ? { displayOrder: o.displayOrder } : {}) });
  }
  return out;
}

function sameOptions(a: readonly HubspotOption[], b: readonly OptionInput[]): boolean {
  if (a.length !== b.length) return false;
  const byValue = new Map(a.map((o) => [o.value, o] as const));
  return b.every((o) => {
    const x = byValue.get(o.value);
    return x !== undefined && x.label === o.label && (x.hidden ?? false) === o.hidden;
  });
}

async function ensureGroup(api: HubspotApi, ctx: Ctx): Promise<void> {
  const name = ctx.target.propertyGroup;
  const label = `create contact property group ${name}`;
  await repeatable(ctx, label, async () => {
    try {
      await api.call(label, (sdk) => sdk.crm.properties.groupsApi.create('contacts', { name, label: name }), {
        scope: 'crm.schemas.contacts.write',
        idempotent: false,
      });
    } catch (e) {
      // 409: it exists already (made by hand, or by an earlier push)
      if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
      const found = await api.find(`read contact property group ${name}`, (sdk) => sdk.crm.properties.groupsApi.getByName('contacts', name), {
        scope: 'crm.schemas.contacts.read',
      });
      if (found === undefined) throw e;
    }
  });
}

/** The contact property exists as an enumeration whose options follow the segments. */
async function ensureProperty(api: HubspotApi, ctx: Ctx, name: string, segments: readonly SegmentRef[]): Promise<void> {
  const readLabel = `read contact property ${name}`;
  const read = async (): Promise<z.output<typeof HubspotProperty> | undefined> => {
    const raw = await api.find(readLabel, (sdk) => sdk.crm.properties.coreApi.getByName('contacts', name), { scope: 'crm.schemas.contacts.read' });
    return raw === undefined ? undefined : parse(HubspotProperty, raw, readLabel);
  };
  let prop = await read();
  if (prop === undefined) {
    await ensureGroup(api, ctx);
    const body: PropertyCreate = {
      name,
      label: ctx.target.propertyLabel,
      description: 'The customer segment segsync assigned to this contact (option value: segment id).',
      groupName: ctx.target.propertyGroup,
      type: 'enumeration' as PropertyCreate['type'],
      fieldType: 'select' as PropertyCreate['fieldType'],
      options: desiredOptions(segments, []),
      formField: false,
    };
    prop = await repeatable(ctx, `create contact property ${name}`, async () => {
      try {
        await api.call(`create contact property ${name}`, (sdk) => sdk.crm.properties.coreApi.create('contacts', body), {
          scope: 'crm.schemas.contacts.write',
          idempotent: false,
        });
        ctx.logger.info({ property: name }, 'created the HubSpot contact property');
        return undefined;
      } catch (e) {
        // a create whose answer was lost and then retried, or a race: read what is there
        if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
        const there = await read();
        if (there === undefined) throw e;
        return there;
      }
    });
    if (prop === undefined) return;
  }
  if (prop.type !== 'enumeration') {
    throw new UserError('CONFIG_INVALID', `the HubSpot contact property "${name}" exists with type ${prop.type}; segsync needs an enumeration`, {
      where: { field: 'push.targets[].property' },
      hint: 'choose another property name for this push target, or delete that property in HubSpot',
    });
  }
  const options = desiredOptions(segments, prop.options);
  if (sameOptions(prop.options, options)) return;
  const update: PropertyUpdate = { options };
  await api.call(`update options of contact property ${name}`, (sdk) => sdk.crm.properties.coreApi.update('contacts', name, update), {
    scope: 'crm.schemas.contacts.write',
  });
  ctx.logger.info({ property: name, options: options.length }, 'updated the HubSpot property options to follow the segments');
}

type List = HubspotList;

function usable(list: List, name: string): List {
  if (list.processingType !== 'MANUAL' || list.objectTypeId !== CONTACTS_TYPE) {
    throw new UserError(
      'CONNECTOR_REMOTE',
      `a HubSpot list named "${name}" already exists (list ${list.listId}) but it is a ${list.processingType} list of object type ${list.objectTypeId}, not a MANUAL contact list`,
      { where: { field: 'push.targets[].lists.prefix' }, hint: 'rename or delete that list in HubSpot, or choose another lists.prefix' },
    );
  }
  return list;
}

async function listByName(api: HubspotApi, name: string): Promise<List | undefined> {
  const label = `find list "${name}"`;
  const raw = await api.find(label, (sdk) => sdk.crm.lists.listsApi.getByName(name, CONTACTS_TYPE), { scope: 'crm.lists.read' });
  return raw === undefined ? undefined : parse(HubspotListResponse, raw, label).list;
}

/** Creates the list; when the name is taken (or a lost answer's retry made it), the list by that name. */
async function findOrCreateList(api: HubspotApi, ctx: Ctx, name: string): Promise<List> {
  const label = `create list "${name}"`;
  const body = { name, objectTypeId: CONTACTS_TYPE, processingType: 'MANUAL' };
  return repeatable(ctx, label, async () => {
    try {
      const raw = await api.call(label, (sdk) => sdk.crm.lists.listsApi.create(body), { scope: 'crm.lists.write', idempotent: false });
      return parse(HubspotListResponse, raw, label).list;
    } catch (e) {
      if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
      const found = await listByName(api, name);
      if (found === undefined) throw e;
      return usable(found, name);
    }
  });
}

async function renameList(api: HubspotApi, list: List, name: string): Promise<void> {
  const label = `rename list ${list.listId} to "${name}"`;
  try {
    parse(
      HubspotListUpdate,
      await api.call(label, (sdk) => sdk.crm.lists.listsApi.updateName(list.listId, name), { scope: 'crm.lists.write' }),
      label,
    );
  } catch (e) {
    if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
    const other = await listByName(api, name);
    if (other === undefined || other.listId === list.listId) throw e;
    throw new UserError('CONNECTOR_REMOTE', `cannot rename HubSpot list ${list.listId} to "${name}": list ${other.listId} already has that name`, {
      where: { field: 'push.targets[].lists.prefix' },
      hint: 'rename or delete the other list in HubSpot, or choose another lists.prefix',
    });
  }
}

async function ensureLists(api: HubspotApi, ctx: Ctx, prefix: string, segments: readonly SegmentRef[], known: ListIds): Promise<{ ids: ListIds; emptied: Set<string> }> {
  const remote = new Map<string, List>();
  const knownIds = [...new Set(Object.values(known))];
  for (let i = 0; i < knownIds.length; i += LISTS_BY_ID_CHUNK) {
    const chunk = knownIds.slice(i, i + LISTS_BY_ID_CHUNK);
    const label = 'read segment lists';
    const raw = await api.call(label, (sdk) => sdk.crm.lists.listsApi.getAll(chunk), { scope: 'crm.lists.read' });
    for (const l of parse(HubspotListsById, raw, label).lists) if (l.deletedAt === undefined) remote.set(l.listId, l);
  }
  const ids: ListIds = {};
  const emptied = new Set<string>();
  const listOf = (s: SegmentRef): List | undefined => {
    const id = known[s.id];
    return id === undefined ? undefined : remote.get(id);
  };

  // 1. retired segments first: their lists give up their names before anything is renamed or created
  for (const s of segments) {
    const list = listOf(s);
    // never pushed, or deleted in HubSpot meanwhile: nothing to retire
    if (!s.retired || list === undefined) continue;
    const name = retiredLabel(`${prefix}${s.name}`);
    const alt = retiredLabel(`${prefix}${s.name} ${s.id}`);
    const renamed = list.name === name || list.name === alt;
    // emptied before it is renamed, so a list named "(retired)" is an empty one (HubSpot may not report sizes)
    if (!renamed || (list.size ?? 0) > 0) {
      const id = list.listId;
      await api.call(`empty retired list ${id}`, (sdk) => sdk.crm.lists.membershipsApi.removeAll(id), { scope: 'crm.lists.write' });
      ctx.logger.info({ list: id, segment: s.id }, 'emptied the list of a retired segment');
    }
    if (!renamed) {
      try {
        await renameList(api, list, name);
      } catch (e) {
        // an older retired segment had the same name
        if (!(e instanceof UserError)) throw e;
        await renameList(api, list, alt);
      }
    }
    ids[s.id] = list.listId;
    emptied.add(list.listId);
  }

  // 2. renamed segments: names can move between segments on a retrain (even swap), so a list
  //    holding a name another of our lists wants steps aside under a temporary name first
  const active = segments.filter((s) => !s.retired);
  const renames = active.flatMap((s) => {
    const list = listOf(s);
    return list !== undefined && list.name !== `${prefix}${s.name}` ? [{ s, list }] : [];
  });
  const wanted = new Set(renames.map(({ s }) => `${prefix}${s.name}`));
  for (const r of renames) {
    if (!wanted.has(r.list.name)) continue;
    const temp = `${r.list.name} (renaming ${r.s.id})`;
    await renameList(api, r.list, temp);
    r.list = { ...r.list, name: temp };
  }
  for (const { s, list } of renames) {
    const name = `${prefix}${s.name}`;
    await renameList(api, list, name);
    ctx.logger.info({ list: list.listId, segment: s.id, from: list.name, to: name }, 'renamed the list of a renamed segment');
  }

  // 3. every active segment has its list: the known one, else the one by that name, else a new one
  for (const s of active) {
    let list = listOf(s);
    if (list === undefined) {
      const name = `${prefix}${s.name}`;
      list = await findOrCreateList(api, ctx, name);
      ctx.logger.info({ list: list.listId, segment: s.id, name }, 'segment list ready');
    }
    ids[s.id] = list.listId;
  }
  return { ids, emptied };
}

function failure(e: unknown): string {
  return e instanceof UserError ? e.message : e instanceof Error ? e.message : String(e);
}

/** Ids a batch error names (context.ids, or any context list of ids we sent). */
function errorIds(err: HubspotBatchError, sent: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const v of Object.values(err.context ?? {})) for (const id of v) if (sent.has(id)) out.push(id);
  return out;
}

/** HubSpot's category for records it does not have (deleted, merged, never existed). */
const NOT_FOUND = 'OBJECT_NOT_FOUND';

/** A call HubSpot refused as a whole: its error body, when that names some of the contacts sent. */
function refusalNaming(e: RemoteError, sent: readonly string[]): { err: HubspotBatchError; ids: string[] } | undefined {
  const err = e.cause instanceof HubspotHttpError ? HubspotBatchError.safeParse(e.cause.body).data : undefined;
  const ids = err ? [...new Set(errorIds(err, new Set(sent)))] : [];
  return err && ids.length ? { err, ids } : undefined;
}

const detailOf = (err: HubspotBatchError | undefined): string => (err ? `${err.category ?? 'error'}: ${err.message ?? 'no message'}` : "not in HubSpot's answer");

type Fail = (keys: Iterable<string>, error: string, permanent?: boolean) => void;

export const hubspotWriter: SegmentWriter<HubspotConfig, HubspotTarget> = {
  // large batches keep list calls near one per list; property updates go out 100 at a time regardless
  maxBatch: 10_000,
  location: (target) =>
    [target.lists === false ? undefined : `HubSpot contact lists "${target.lists.prefix}<segment>"`, target.property === false ? undefined : `contact property ${target.property}`]
      .filter(Boolean)
      .join(' and ') || 'HubSpot (no lists, no property configured)',

  async prepare(ctx, segments, known) {
    const api = hubspotApi(ctx);
    if (ctx.target.property !== false) await ensureProperty(api, ctx, ctx.target.property, segments);
    if (ctx.target.lists === false) {
      prepared.set(ctx, { emptied: new Set() });
      return {};
    }
    const { ids, emptied } = await ensureLists(api, ctx, ctx.target.lists.prefix, segments, known);
    prepared.set(ctx, { emptied });
    return ids;
  },

  async apply(ctx, ops) {
    const api = hubspotApi(ctx);
    const errors = new Map<string, string>();
    // permanent only when every failure of the op is (a list add and a property update may fail apart)
    const permanent = new Map<string, boolean>();
    const fail: Fail = (keys, error, lasting = false) => {
      for (const k of keys) {
        if (!errors.has(k)) errors.set(k, error);
        permanent.set(k, (permanent.get(k) ?? true) && lasting);
      }
    };

    if (ctx.target.lists !== false) await applyLists(api, ops, prepared.get(ctx)?.emptied ?? new Set(), fail);
    if (ctx.target.property !== false) await applyProperty(api, ctx.target.property, ops, fail);

    return ops.map((o): OpResult => {
      const error = errors.get(o.key);
      return error === undefined ? { key: o.key, ok: true } : { key: o.key, ok: false, error, ...(permanent.get(o.key) ? { permanent: true } : {}) };
    });
  },
};

async function applyLists(api: HubspotApi, ops: readonly MembershipOp[], emptied: ReadonlySet<string>, fail: Fail): Promise<void> {
  const byList = new Map<string, { add: Map<string, string[]>; remove: Map<string, string[]> }>();
  for (const o of ops) {
    if (o.listId === undefined) {
      // a remove from a list that no longer exists is done; an add has nowhere to go
      if (o.op === 'add') fail([o.key], `no HubSpot list for segment "${o.segmentName}"`);
      continue;
    }
    // prepare() emptied the retired segment's list already
    if (o.op === 'remove' && emptied.has(o.listId)) continue;
    const l = byList.get(o.listId) ?? { add: new Map<string, string[]>(), remove: new Map<string, string[]>() };
    byList.set(o.listId, l);
    const m = o.op === 'add' ? l.add : l.remove;
    m.set(o.externalId, [...(m.get(o.externalId) ?? []), o.key]);
  }
  for (const [listId, l] of byList) {
    const entries: ['add' | 'remove', string][] = [...[...l.add.keys()].map((id) => ['add', id] as ['add', string]), ...[...l.remove.keys()].map((id) => ['remove', id] as ['remove', string])];
    const keysOf = (op: 'add' | 'remove', id: string): string[] => (op === 'add' ? l.add : l.remove).get(id) ?? [];
    const missing = (id: string): void => {
      // missing and not a member is what a remove wants
      fail(keysOf('add', id), `contact ${id} does not exist in HubSpot (deleted or merged); the next sync removes it`, true);
    };
    for (let i = 0; i < entries.length; i += LIST_MEMBERSHIP_CHUNK) {
      let chunk = entries.slice(i, i + LIST_MEMBERSHIP_CHUNK);
      // a call refused for contacts it names goes again without them: each round drops one at least
      while (chunk.length) {
        const body = {
          recordIdsToAdd: chunk.filter(([op]) => op === 'add').map(([, id]) => id),
          recordIdsToRemove: chunk.filter(([op]) => op === 'remove').map(([, id]) => id),
        };
        const label = `update members of list ${listId}`;
        let res: z.output<typeof HubspotMembershipsUpdate>;
        try {
          res = parse(
            HubspotMembershipsUpdate,
            await api.call(label, (sdk) => sdk.crm.lists.membershipsApi.addAndRemove(listId, body), { scope: 'crm.lists.write' }),
            label,
          );
        } catch (e) {
          // a refused request fails its records (retried next push); anything else stops the push
          if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
          const named = refusalNaming(e, chunk.map(([, id]) => id));
          if (!named) {
            fail(chunk.flatMap(([op, id]) => keysOf(op, id)), failure(e));
            break;
          }
          for (const id of named.ids) {
            if (named.err.category === NOT_FOUND) missing(id);
            else fail([...keysOf('add', id), ...keysOf('remove', id)], `contact ${id}: ${detailOf(named.err)}`);
          }
          chunk = chunk.filter(([, id]) => !named.ids.includes(id));
          continue;
        }
        for (const id of res.recordIdsMissing) missing(id);
        break;
      }
    }
  }
}

async function applyProperty(api: HubspotApi, property: string, ops: readonly MembershipOp[], fail: Fail): Promise<void> {
  // one value per contact: the segment it is added to, else empty (it only left a segment)
  const value = new Map<string, string>();
  const keys = new Map<string, string[]>();
  const onlyRemoves = new Set<string>();
  for (const o of ops) keys.set(o.externalId, [...(keys.get(o.externalId) ?? []), o.key]);
  for (const o of ops) if (o.op === 'add') value.set(o.externalId, o.segmentId);
  for (const o of ops) {
    if (o.op === 'remove' && !value.has(o.externalId)) {
      value.set(o.externalId, '');
      onlyRemoves.add(o.externalId);
    }
  }
  const refused = (id: string, err: HubspotBatchError | undefined): void => {
    const gone = err?.category === NOT_FOUND;
    // clearing the value of a contact that no longer exists is done
    if (onlyRemoves.has(id) && gone) return;
    fail(keys.get(id) ?? [], `HubSpot did not update ${property} of contact ${id} (${detailOf(err)})`, gone);
  };
  const ids = [...value.keys()];
  for (let i = 0; i < ids.length; i += BATCH_UPDATE_CHUNK) {
    let chunk = ids.slice(i, i + BATCH_UPDATE_CHUNK);
    // a batch refused for contacts it names (e.g. one deleted since the sync) goes again without them
    while (chunk.length) {
      const body = { inputs: chunk.map((id) => ({ id, properties: { [property]: value.get(id) as string } })) };
      const label = `update ${property} of ${chunk.length} contacts`;
      let res: z.output<typeof HubspotBatchUpdate>;
      try {
        res = parse(HubspotBatchUpdate, await api.call(label, (sdk) => sdk.crm.contacts.batchApi.update(body), { scope: 'crm.objects.contacts.write' }), label);
      } catch (e) {
        if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
        const named = refusalNaming(e, chunk);
        if (!named) {
          fail(chunk.flatMap((id) => keys.get(id) ?? []), failure(e));
          break;
        }
        for (const id of named.ids) refused(id, named.err);
        chunk = chunk.filter((id) => !named.ids.includes(id));
        continue;
      }
      const done = new Set(res.results.map((r) => r.id));
      const sent = new Set(chunk);
      const why = new Map<string, HubspotBatchError>();
      for (const err of res.errors ?? []) for (const id of errorIds(err, sent)) why.set(id, err);
      const general = res.errors?.[0];
      for (const id of chunk) if (!done.has(id)) refused(id, why.get(id) ?? general);
      break;
    }
  }
}
