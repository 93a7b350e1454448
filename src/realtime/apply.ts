/**
 * What a real-time run does, after a webhook burst or a short poll: the
 * touched contacts' new state goes into the store, their customers are
 * assigned with the active model (no retraining), and only their membership
 * changes are pushed. The push engine's churn hold applies as for any push;
 * the run holds the pipeline lease like every job (the runner sees to that).
 */
import type { AnyConnector, ConnectorContext } from '../connector/contract.js';
import type { ConnectorConfig } from '../config/schema.js';
import type { Contact, Rejected, Transaction } from '../core/records.js';
import { isUserError } from '../core/errors.js';
import type { JobContext } from '../jobs/context.js';
import type { JobOutput } from '../schedule/jobs.js';
import { pushCounts, pushStatus } from '../schedule/jobs.js';
import { assignCustomers } from '../segment/assign-customers.js';
import { runPush } from '../push/engine.js';
import type { RunStatus } from '../store/runs-repo.js';
import type { StoredChange } from '../store/changes-repo.js';
import { syncConnector } from '../sync/engine.js';
import { ensureEmailMode, privacyPolicy, withPrivacy } from '../privacy/policy.js';

/** The connector as every sync path sees it: the privacy allowlist and email hashing applied to what it parses. */
function privateConnector(ctx: JobContext, def: AnyConnector): AnyConnector {
  const policy = privacyPolicy(ctx.config);
  ensureEmailMode(ctx.store, policy);
  return withPrivacy(def, policy);
}

export interface AssignPushCounts {
  customers: number;
  assigned: number;
  moved: number;
  removed: number;
  /** why nothing was assigned, when nothing was */
  note?: string;
  /** time of the steps */
  ms?: { store?: number; assign: number; push?: number };
  push?: Record<string, unknown>;
}

/**
 * Assigns the touched customers and pushes only them. Without an active model
 * the records stay stored and wait for the first segment run.
 */
export async function assignAndPush(ctx: JobContext, runId: number, customers: ReadonlySet<string>): Promise<{ counts: AssignPushCounts; status: RunStatus }> {
  const counts: AssignPushCounts = { customers: customers.size, assigned: 0, moved: 0, removed: 0 };
  if (customers.size === 0) return { counts, status: 'succeeded' };
  if (!ctx.store.models.activeModel()) {
    counts.note = 'no segmentation model yet: the changes are stored and the first segment run places them';
    return { counts, status: 'succeeded' };
  }
  const ids = [...customers];
  // let the server answer waiting webhook deliveries between the synchronous steps
  await yieldToIo();
  const t0 = performance.now();
  let a: ReturnType<typeof assignCustomers>;
  try {
    a = assignCustomers(ctx.store, ctx.config, ids, { now: ctx.now, logger: ctx.logger });
  } catch (e) {
    // a model this version cannot read: the changes stay stored (and marked), `segsync segment` retrains
    if (!isUserError(e) || e.code !== 'MODEL_INVALID') throw e;
    counts.note = `the active model cannot assign: ${e.oneLine()}`;
    return { counts, status: 'succeeded' };
  }
  // placed now: a later sync's assignment need not place them again
  ctx.store.models.clearDirty(ids);
  counts.assigned = a.assigned;
  counts.moved = a.moved.length;
  counts.removed = a.removed.length;
  counts.ms = { assign: Math.round(performance.now() - t0) };
  if (ctx.config.push.targets.length === 0 || ctx.signal.aborted) return { counts, status: 'succeeded' };
  await yieldToIo();
  const t1 = performance.now();
  const r = await runPush(ctx, { runId, dryRun: false, approve: false, signal: ctx.signal, customers: ids });
  counts.ms.push = Math.round(performance.now() - t1);
  counts.push = pushCounts(r);
  return { counts, status: pushStatus(r) };
}

const yieldToIo = (): Promise<void> => new Promise((r) => setImmediate(r));

function connectorContext(ctx: JobContext, conn: ConnectorConfig): ConnectorContext<unknown> {
  return {
    name: conn.name,
    config: conn.settings,
    logger: ctx.logger.child({ connector: conn.name, realtime: true }),
    signal: ctx.signal,
    retry: ctx.retry,
    baseDir: ctx.config.baseDir,
  };
}

export interface EventPlan {
  /** contacts to re-read, and to mark deleted */
  fetch: string[];
  remove: string[];
  /** transactions (deals) to re-read, and to mark deleted */
  fetchTx: string[];
  removeTx: string[];
}

/**
 * What a batch of events asks for, one answer per record: the newest event
 * about it wins (a contact created then deleted within the burst is deleted);
 * the records a merge absorbed are deleted, its survivor is re-read.
 */
export function planEvents(events: readonly StoredChange[]): EventPlan {
  const last = { contact: new Map<string, { kind: 'fetch' | 'remove'; at: number; seq: number }>(), transaction: new Map<string, { kind: 'fetch' | 'remove'; at: number; seq: number }>() };
  const put = (object: 'contact' | 'transaction', id: string, kind: 'fetch' | 'remove', e: StoredChange): void => {
    const m = last[object];
    const cur = m.get(id);
    if (!cur || e.occurredAt > cur.at || (e.occurredAt === cur.at && e.seq > cur.seq)) m.set(id, { kind, at: e.occurredAt, seq: e.seq });
  };
  for (const e of events) {
    const object = e.action.startsWith('transaction.') ? 'transaction' : 'contact';
    const verb = e.action.replace('transaction.', '');
    put(object, e.objectId, verb === 'delete' ? 'remove' : 'fetch', e);
    if (verb === 'merge') for (const m of e.mergedIds) put(object, m, 'remove', e);
  }
  const split = (m: Map<string, { kind: 'fetch' | 'remove' }>): [string[], string[]] => {
    const f: string[] = [];
    const r: string[] = [];
    for (const [id, v] of m) (v.kind === 'fetch' ? f : r).push(id);
    return [f.sort(), r.sort()];
  };
  const [fetch, remove] = split(last.contact);
  const [fetchTx, removeTx] = split(last.transaction);
  return { fetch, remove, fetchTx, removeTx };
}

/** One webhook batch: fetch, store, assign, push; the events are marked done only when all of it went through. */
export async function applyChangeBatch(ctx: JobContext, runId: number, conn: ConnectorConfig, registered: AnyConnector, events: readonly StoredChange[]): Promise<JobOutput> {
  const def = privateConnector(ctx, registered);
  const feed = def.changes;
  if (!feed) throw new Error(`connector type ${def.type} has no change feed`);
  const { store } = ctx;
  const plan = planEvents(events);
  const fetched =
    plan.fetch.length || plan.fetchTx.length
      ? await feed.fetch(connectorContext(ctx, conn), { contacts: plan.fetch, transactions: plan.fetchTx })
      : { contacts: [], transactions: [], gone: [], goneTransactions: [] };
  if (ctx.signal.aborted) return { result: null, counts: { events: events.length, interrupted: true } };

  const contacts: Contact[] = [];
  const transactions: Transaction[] = [];
  const rejectedContacts: Rejected[] = [];
  const rejectedTxs: Rejected[] = [];
  const pctx = { connector: conn.name, config: conn.settings };
  for (const raw of fetched.contacts) {
    const r = def.streams.contacts.parse(raw, pctx);
    if (r.ok) contacts.push(r.record);
    else rejectedContacts.push(r.rejected);
  }
  for (const raw of fetched.transactions) {
    const r = def.streams.transactions.parse(raw, pctx);
    if (r.ok) transactions.push(r.record);
    else rejectedTxs.push(r.rejected);
  }
  await yieldToIo();
  const tStore = performance.now();
  const touched = new Set<string>();
  const now = ctx.now().toISOString();
  const removed = [...new Set([...plan.remove, ...fetched.gone])];
  const c = store.sync.applyChanges({ runId, connector: conn.name, stream: 'contacts', contacts, deleted: removed, rejected: rejectedContacts, now, touched });
  const removedTx = [...new Set([...plan.removeTx, ...fetched.goneTransactions])];
  const t = store.sync.applyChanges({ runId, connector: conn.name, stream: 'transactions', transactions, deleted: removedTx, rejected: rejectedTxs, now, touched });
  store.sync.foldErasures();
  const storeMs = Math.round(performance.now() - tStore);
  const ap = await assignAndPush(ctx, runId, touched);
  if (ap.counts.ms) ap.counts.ms = { store: storeMs, ...ap.counts.ms } as typeof ap.counts.ms;
  // aborted mid-push: the events stay pending and the next start applies them again (idempotent)
  if (!ctx.signal.aborted) store.changes.markDone(events.map((e) => e.seq), runId, Date.now());
  const counts = {
    source: conn.name,
    events: events.length,
    fetched: fetched.contacts.length,
    deals: fetched.transactions.length,
    upserted: c.upserted + t.upserted,
    deleted: c.deleted + t.deleted,
    quarantined: c.quarantined + t.quarantined,
    ...ap.counts,
    latencyMs: Math.max(0, Date.now() - Math.min(...events.map((e) => e.receivedAt))),
  };
  ctx.logger.info({ run: runId, ...counts, push: undefined }, `applied ${events.length} change event(s) from ${conn.name}: ${ap.counts.moved} customer(s) moved`);
  return { result: counts, counts, status: ap.status };
}

/** One short poll: an incremental sync of the connector, then the customers it touched are assigned and pushed. */
export async function pollOnce(ctx: JobContext, runId: number, conn: ConnectorConfig, registered: AnyConnector): Promise<JobOutput> {
  const def = privateConnector(ctx, registered);
  const touched = new Set<string>();
  const streams = await syncConnector(
    { store: ctx.store, logger: ctx.logger, progress: ctx.progress, retry: ctx.retry, baseDir: ctx.config.baseDir, pageSize: ctx.config.sync.pageSize, now: ctx.now },
    def,
    conn,
    { runId, full: false, signal: ctx.signal, touched },
  );
  const read = streams.reduce((n, s) => n + s.read, 0);
  const ap = await assignAndPush(ctx, runId, touched);
  const counts = {
    source: conn.name,
    read,
    upserted: streams.reduce((n, s) => n + s.upserted, 0),
    deleted: streams.reduce((n, s) => n + s.deleted, 0),
    quarantined: streams.reduce((n, s) => n + s.quarantined, 0),
    ...ap.counts,
  };
  return { result: counts, counts, status: ap.status };
}
