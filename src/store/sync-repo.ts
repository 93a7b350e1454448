/** Sync-side writes: pages of records, quarantine and the checkpoint in one transaction. */
import { z } from 'zod';
import type { Contact, Rejected, Transaction } from '../core/records.js';
import type { Checkpoint } from '../connector/contract.js';
import type { Db } from './open.js';
import { customerIdFor, identityKey } from './ids.js';

export interface PageWrite {
  runId: number;
  connector: string;
  stream: 'contacts' | 'transactions';
  contacts?: readonly Contact[];
  transactions?: readonly Transaction[];
  /** where each accepted record came from (same order), for rejections found at commit */
  locations?: readonly (string | undefined)[];
  /** External ids the source reports as deleted. */
  deleted?: readonly string[];
  rejected: readonly Rejected[];
  checkpoint: Checkpoint;
  now: string;
  /**
   * When given, receives the customer ids whose features this page may change:
   * those of the contacts written or deleted (before and after, as an email
   * change moves a contact to another customer) and of the contacts owning the
   * transactions written or deleted. Real-time runs assign exactly these.
   */
  touched?: Set<string>;
}

/** A page from a change notification: written like a sync page, but no stream cursor moves. */
export type ChangeWrite = Omit<PageWrite, 'checkpoint'>;

export interface PageCounts {
  upserted: number;
  deleted: number;
  quarantined: number;
}

/** A transaction as this store quarantined it for an unknown contact (the canonical record), read back. */
const WaitingTransaction = z.object({
  id: z.string(),
  connector: z.string(),
  externalId: z.string(),
  contactId: z.string(),
  amount: z.number(),
  currency: z.string(),
  occurredAt: z.string(),
  status: z.enum(['won', 'open', 'lost', 'refunded']),
  deletedAt: z.string().optional(),
  properties: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
}) satisfies z.ZodType<Transaction>;

/** The properties column: JSON, with no work for the common empty object. */
function propertiesJson(p: Record<string, unknown>): string {
  for (const _ in p) return JSON.stringify(p);
  return '{}';
}

/** The index of migration 1, as it is made again after a first load. */
const CONTACTS_BY_CUSTOMER = 'CREATE INDEX IF NOT EXISTS contacts_customer ON contacts(customer_id)';

/** Rows per statement in a batched insert: one call into SQLite instead of 32, same row-by-row semantics. */
const BATCH = 32;

/**
 * An INSERT run for many rows given as one flat array of positional values (`width`
 * per row), BATCH rows per statement (multi-row VALUES), the rest one row per statement.
 * Rows are inserted in order, each with its own ON CONFLICT handling, as single inserts would be.
 */
function batchedInsert(db: Db, head: string, width: number, tail: string): (values: unknown[]) => void {
  const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  const one = db.prepare(`${head} VALUES ${tuple} ${tail}`);
  const many = db.prepare(`${head} VALUES ${Array.from({ length: BATCH }, () => tuple).join(', ')} ${tail}`);
  // one parameter array per statement, refilled (binding copies the values): a slice per call
  // was a page's worth of garbage again
  const per = BATCH * width;
  const manyArgs = new Array<unknown>(per);
  const oneArgs = new Array<unknown>(width);
  return (values) => {
    let i = 0;
    for (; i + per <= values.length; i += per) {
      for (let k = 0; k < per; k++) manyArgs[k] = values[i + k];
      many.run(manyArgs);
    }
    for (; i < values.length; i += width) {
      for (let k = 0; k < width; k++) oneArgs[k] = values[i + k];
      one.run(oneArgs);
    }
    // no strings of the page kept alive until the next one
    manyArgs.fill(undefined);
  };
}

const HIGH_UNIT = /[\uD800-\uFFFF]/;

/**
 * The smallest and largest of `ids` in SQLite's text order (UTF-8 bytes), or undefined
 * when that may differ from JavaScript's (UTF-16 units). The two orders only disagree where
 * a string holds a unit from U+D800 up; if neither extreme does, every id lies between them
 * in both orders (at the first unit where an id differs from an extreme, the extreme's unit
 * is below U+D800 and so orders the same way as a code point).
 */
export function idRange(ids: readonly string[]): [string, string] | undefined {
  const first = ids[0];
  if (first === undefined) return undefined;
  let lo = first;
  let hi = first;
  for (const id of ids) {
    if (id < lo) lo = id;
    else if (id > hi) hi = id;
  }
  return HIGH_UNIT.test(lo) || HIGH_UNIT.test(hi) ? undefined : [lo, hi];
}

/** The personal columns of a contact, emptied when its source deletes it. */
const SCRUB_CONTACT = "email = NULL, first_name = NULL, last_name = NULL, company = NULL, country = NULL, lifecycle_stage = NULL, properties = '{}'";

export function createSyncRepo(db: Db) {
  const getCursor = db.prepare<[string, string], { cursor: string }>('SELECT cursor FROM sync_state WHERE connector = ? AND stream = ?');
  const setCursor = db.prepare(
    `INSERT INTO sync_state (connector, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (connector, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
  );
  const delCursor = db.prepare('DELETE FROM sync_state WHERE connector = ? AND stream = ?');
  // positional parameters, many rows per statement: binding and calls cost more than the inserts at this volume
  const insCustomers = batchedInsert(db, 'INSERT OR IGNORE INTO customers (id, identity_key)', 2, '');
  // duplicates within a source collapse to the newest updated_at
  const upContacts = batchedInsert(
    db,
    `INSERT INTO contacts (id, connector, external_id, customer_id, email, first_name, last_name, company, country,
                           lifecycle_stage, created_at, updated_at, deleted_at, properties)`,
    14,
    `ON CONFLICT (id) DO UPDATE SET
       customer_id = excluded.customer_id, email = excluded.email, first_name = excluded.first_name,
       last_name = excluded.last_name, company = excluded.company, country = excluded.country,
       lifecycle_stage = excluded.lifecycle_stage, created_at = excluded.created_at,
       updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, properties = excluded.properties
     WHERE excluded.updated_at >= contacts.updated_at`,
  );
  const customerOf = db.prepare<[string], string>('SELECT customer_id FROM contacts WHERE id = ?').pluck();
  const upTxs = batchedInsert(
    db,
    'INSERT INTO transactions (id, connector, external_id, contact_id, amount, currency, occurred_at, status, deleted_at, properties)',
    10,
    `ON CONFLICT (id) DO UPDATE SET
       contact_id = excluded.contact_id, amount = excluded.amount, currency = excluded.currency,
       occurred_at = excluded.occurred_at, status = excluded.status, deleted_at = excluded.deleted_at,
       properties = excluded.properties`,
  );
  // A contact deleted in its source keeps only what the deletion needs (ids, dates: its memberships
  // are removed at the next push); its personal fields, properties and rejected payloads go at once.
  const delContact = db
    .prepare<[string, string, string], string>(
      `UPDATE contacts SET deleted_at = ?, ${SCRUB_CONTACT} WHERE connector = ? AND external_id = ? AND deleted_at IS NULL RETURNING customer_id`,
    )
    .pluck();
  const delTx = db
    .prepare<[string, string, string], string>('UPDATE transactions SET deleted_at = ? WHERE connector = ? AND external_id = ? AND deleted_at IS NULL RETURNING contact_id')
    .pluck();
  // customers to assign without retraining: only worth marking while a model exists (a new one places everyone)
  const hasModel = db.prepare<[], number>("SELECT 1 FROM models WHERE status = 'active' LIMIT 1").pluck();
  const markDirty = batchedInsert(db, 'INSERT OR IGNORE INTO dirty_customers (customer_id)', 1, '');
  const ONLY_IDS = '(SELECT value FROM json_each(?))';
  // a customer no live contact holds any more keeps no email in its identity key; one statement
  // per page (during a first load contacts has no index by customer: a probe per record would
  // scan the table each time)
  const scrubCustomers = db.prepare<[string, string]>(
    `UPDATE customers SET identity_key = 'erased:' || id WHERE id IN ${ONLY_IDS}
       AND id NOT IN (SELECT customer_id FROM contacts WHERE deleted_at IS NULL AND customer_id IN ${ONLY_IDS})`,
  );
  // A record a page stores, or its source deletes, clears the rows an earlier read quarantined
  // it with (a deal whose contact has arrived since, a value fixed since): the problem they
  // report is gone. The quarantine_record index gives the stream's rows within the page's id
  // range, and the smaller side is walked. None (a first load of ascending ids, whose earlier
  // rejections all sort before the page): nothing more. No more than the page has ids (a
  // changed file read again): those rows are matched here and the hits deleted. More (ids in
  // no order, a large quarantine): one delete probes the index once per id of the page (about
  // 1 µs per id against 100,000 rows: a 10,000-row page's write takes ~10 ms more, up to 1.5x).
  const WITHIN = 'FROM quarantine WHERE connector = ? AND stream = ? AND external_id BETWEEN ? AND ?';
  const countWithin = db.prepare<[string, string, string, string, number], number>(`SELECT count(*) FROM (SELECT 1 ${WITHIN} LIMIT ?)`).pluck();
  const quarantinedWithin = db.prepare<[string, string, string, string], string>(`SELECT external_id ${WITHIN}`).pluck();
  const healQuarantine = db.prepare<[string, string, string]>(`DELETE FROM quarantine WHERE connector = ? AND stream = ? AND external_id IN ${ONLY_IDS}`);
  const heal = (connector: string, stream: string, ids: readonly string[]): void => {
    if (ids.length === 0) return;
    const range = idRange(ids);
    let targets = ids;
    if (range) {
      const [lo, hi] = range;
      const n = countWithin.get(connector, stream, lo, hi, ids.length + 1) ?? 0;
      if (n === 0) return;
      if (n <= ids.length) {
        const page = new Set(ids);
        targets = quarantinedWithin.all(connector, stream, lo, hi).filter((id) => page.has(id));
        if (targets.length === 0) return;
      }
    }
    healQuarantine.run(connector, stream, JSON.stringify(targets));
  };
  // customers touched by a page (only when asked: bulk syncs do not pay for it)
  const customersOfIds = db.prepare<[string], [string, string]>(`SELECT id, customer_id FROM contacts WHERE id IN ${ONLY_IDS}`).raw();
  const customersOfContacts = db.prepare<[string], string>(`SELECT customer_id FROM contacts WHERE id IN ${ONLY_IDS}`).pluck();
  const customersOfExternal = db.prepare<[string, string], string>(`SELECT customer_id FROM contacts WHERE connector = ? AND external_id IN ${ONLY_IDS}`).pluck();
  const customersOfTxs = db.prepare<[string], string>(
    `SELECT c.customer_id FROM transactions t JOIN contacts c ON c.id = t.contact_id WHERE t.id IN ${ONLY_IDS}`,
  ).pluck();
  const customersOfExternalTxs = db.prepare<[string, string], string>(
    `SELECT c.customer_id FROM transactions t JOIN contacts c ON c.id = t.contact_id WHERE t.connector = ? AND t.external_id IN ${ONLY_IDS}`,
  ).pluck();
  const insQ = db.prepare(
    'INSERT INTO quarantine (run_id, connector, stream, external_id, location, reason, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  // Transactions quarantined because their contact had not arrived: a transactions file is read
  // again only when it changes, a CRM deal only when it changes, so they come in when the contact
  // does. The first probe is one index step when nothing waits (every first load).
  const UNKNOWN_CONTACT = "connector = ? AND stream = 'transactions' AND reason LIKE 'unknown contact:%'";
  const anyWaiting = db.prepare<[string], number>(`SELECT 1 FROM quarantine WHERE ${UNKNOWN_CONTACT} LIMIT 1`).pluck();
  const waitingFor = db
    .prepare<[string, string], [number, string]>(
      `SELECT id, payload FROM quarantine WHERE ${UNKNOWN_CONTACT} AND json_extract(payload, '$.contactId') IN ${ONLY_IDS} ORDER BY id`,
    )
    .raw();
  const delQuarantineRows = db.prepare<[string]>(`DELETE FROM quarantine WHERE id IN ${ONLY_IDS}`);
  /** Stores the transactions waiting for these contacts (canonical id -> customer). */
  const admitWaiting = (connector: string, arrived: Map<string, string>, dirty: Set<string> | undefined, touched: Set<string> | undefined): void => {
    if (arrived.size === 0 || anyWaiting.get(connector) !== 1) return;
    const rows: unknown[] = [];
    const done: number[] = [];
    for (const [qid, payload] of waitingFor.all(connector, JSON.stringify([...arrived.keys()]))) {
      const t = WaitingTransaction.safeParse(JSON.parse(payload));
      // a payload this version did not write stays listed, as it was
      if (!t.success) continue;
      const x = t.data;
      rows.push(x.id, x.connector, x.externalId, x.contactId, x.amount, x.currency, x.occurredAt, x.status, x.deletedAt ?? null, propertiesJson(x.properties));
      done.push(qid);
      const customerId = arrived.get(x.contactId);
      if (customerId !== undefined) {
        dirty?.add(customerId);
        touched?.add(customerId);
      }
    }
    upTxs(rows);
    if (done.length) delQuarantineRows.run(JSON.stringify(done));
  };

  /** Adds to `touched` the customers the page's records belong to before it is written. */
  const collectBefore = (p: ChangeWrite, touched: Set<string>): void => {
    const add = (ids: Iterable<string>): void => {
      for (const id of ids) touched.add(id);
    };
    const contacts = p.contacts ?? [];
    if (contacts.length) add(customersOfContacts.all(JSON.stringify(contacts.map((c) => c.id))));
    const txs = p.transactions ?? [];
    if (txs.length) {
      add(customersOfTxs.all(JSON.stringify(txs.map((t) => t.id))));
      add(customersOfContacts.all(JSON.stringify([...new Set(txs.map((t) => t.contactId))])));
    }
    const deleted = p.deleted ?? [];
    if (deleted.length) {
      const ids = JSON.stringify(deleted);
      add(p.stream === 'contacts' ? customersOfExternal.all(p.connector, ids) : customersOfExternalTxs.all(p.connector, ids));
    }
  };

  const writePage = (p: ChangeWrite, checkpoint: Checkpoint | undefined): PageCounts => {
    let upserted = 0;
    let deleted = 0;
    const rejected = [...p.rejected];
    const dirty = hasModel.get() === 1 ? new Set<string>() : undefined;
    const contacts = p.contacts ?? [];
    if (p.touched) collectBefore(p, p.touched);
    const erasedCustomers = new Set<string>();
    // external ids of this stream whose earlier quarantine rows go (see heal)
    const settled: string[] = [];
    if (contacts.length > 0) {
      const customers: unknown[] = [];
      const rows: unknown[] = [];
      for (const c of contacts) {
        const key = identityKey(c.id, c.email);
        const customerId = customerIdFor(key);
        customers.push(customerId, key);
        settled.push(c.externalId);
        dirty?.add(customerId);
        p.touched?.add(customerId);
        if (c.deletedAt) {
          // arrives deleted: stored as a tombstone, like a deletion the source reports
          rows.push(c.id, c.connector, c.externalId, customerId, null, null, null, null, null, null, c.createdAt, c.updatedAt, c.deletedAt, '{}');
          erasedCustomers.add(customerId);
          continue;
        }
        rows.push(
          c.id,
          c.connector,
          c.externalId,
          customerId,
          c.email ?? null,
          c.firstName ?? null,
          c.lastName ?? null,
          c.company ?? null,
          c.country ?? null,
          c.lifecycleStage ?? null,
          c.createdAt,
          c.updatedAt,
          null,
          propertiesJson(c.properties),
        );
      }
      insCustomers(customers);
      upContacts(rows);
      upserted += contacts.length;
      const arrived = new Map<string, string>();
      for (let i = 0; i < contacts.length; i++) {
        const c = contacts[i] as Contact;
        if (!c.deletedAt) arrived.set(c.id, customers[2 * i] as string);
      }
      // not counted as this stream's records: `status` shows them with the transactions
      admitWaiting(p.connector, arrived, dirty, p.touched);
    }
    const txs = p.transactions ?? [];
    if (txs.length > 0) {
      // contacts found in this page; nothing removes a contact inside this transaction
      // the page's contacts in one statement (a probe per contact was a call into SQLite each)
      const ids = new Set<string>();
      for (const t of txs) ids.add(t.contactId);
      const found = new Map<string, string>(customersOfIds.all(JSON.stringify([...ids])));
      if (dirty) for (const customerId of found.values()) dirty.add(customerId);
      const rows: unknown[] = [];
      for (let i = 0; i < txs.length; i++) {
        const t = txs[i] as Transaction;
        if (!found.has(t.contactId)) {
          const location = p.locations?.[i];
          rejected.push({
            externalId: t.externalId,
            reason: `unknown contact: contact ${t.contactId.slice(t.connector.length + 1)} not found in this connector's contacts`,
            ...(location !== undefined ? { location } : {}),
            payload: t,
          });
          continue;
        }
        rows.push(t.id, t.connector, t.externalId, t.contactId, t.amount, t.currency, t.occurredAt, t.status, t.deletedAt ?? null, propertiesJson(t.properties));
        settled.push(t.externalId);
        upserted++;
      }
      upTxs(rows);
    }
    for (const id of p.deleted ?? []) {
      const gone = p.stream === 'contacts' ? delContact.get(p.now, p.connector, id) : delTx.get(p.now, p.connector, id);
      if (gone === undefined) continue;
      deleted++;
      const customerId = p.stream === 'contacts' ? gone : customerOf.get(gone);
      if (customerId !== undefined) dirty?.add(customerId);
      if (p.stream === 'contacts') {
        erasedCustomers.add(gone);
      }
    }
    // deleted in the source, stored or not: a contact only ever quarantined keeps no payload either
    for (const id of p.deleted ?? []) settled.push(id);
    // rejected again: this page's row replaces the earlier ones, so a record that keeps failing
    // is listed once, with its latest reason, however often a changed file is read again
    for (const r of rejected) if (r.externalId !== undefined) settled.push(r.externalId);
    // before this page's own rejections are written
    heal(p.connector, p.stream, settled);
    // heal (above) took the erased contacts' own quarantine rows, and only theirs: a deal that
    // happens to share a deleted contact's id keeps its row
    if (erasedCustomers.size > 0) {
      const ids = JSON.stringify([...erasedCustomers]);
      scrubCustomers.run(ids, ids);
    }
    if (dirty?.size) markDirty([...dirty]);
    for (const r of rejected) {
      insQ.run(p.runId, p.connector, p.stream, r.externalId ?? null, r.location ?? null, r.reason, JSON.stringify(r.payload ?? null));
    }
    if (checkpoint !== undefined) setCursor.run(p.connector, p.stream, JSON.stringify(checkpoint), p.now);
    return { upserted, deleted, quarantined: rejected.length };
  };
  const commitPage = db.transaction((p: PageWrite): PageCounts => writePage(p, p.checkpoint));
  const anyContact = db.prepare<[], number>('SELECT 1 FROM contacts LIMIT 1').pluck();
  const applyChanges = db.transaction((p: ChangeWrite): PageCounts => writePage(p, undefined));

  // A page that erases a contact writes with secure_delete, so the space its old values held is
  // zeroed; foldErasures then moves the WAL (which still has the old pages) into the file and empties it.
  let erasedPages = 0;
  const erasing = (p: ChangeWrite): boolean => p.stream === 'contacts' && ((p.deleted?.length ?? 0) > 0 || (p.contacts ?? []).some((c) => c.deletedAt));
  const withErasure = (p: ChangeWrite, write: () => PageCounts): PageCounts => {
    if (!erasing(p)) return write();
    const before = db.pragma('secure_delete', { simple: true }) as number;
    db.pragma('secure_delete = ON');
    try {
      const r = write();
      erasedPages++;
      return r;
    } finally {
      db.pragma(`secure_delete = ${before}`);
    }
  };

  return {
    getCheckpoint(connector: string, stream: string): unknown {
      const row = getCursor.get(connector, stream);
      return row ? (JSON.parse(row.cursor) as unknown) : undefined;
    },
    resetCheckpoint(connector: string, stream: string): void {
      delCursor.run(connector, stream);
    },
    /**
     * Before a contacts stream. Into an empty table, contacts load without their index by
     * customer (random keys: each row's insert lands on its own leaf, and each commit
     * rewrites every leaf it touched) and finishContacts builds it once, by sorting. Into
     * a table with rows, the index is made sure of: a first sync killed before
     * finishContacts leaves it out until then (queries stay right, only slower).
     */
    beginContacts(): void {
      if (anyContact.get() === undefined) db.exec('DROP INDEX IF EXISTS contacts_customer');
      else db.exec(CONTACTS_BY_CUSTOMER);
    },
    /** After a contacts stream, however it ended. */
    finishContacts(): void {
      db.exec(CONTACTS_BY_CUSTOMER);
    },
    commitPage: (p: PageWrite): PageCounts => withErasure(p, () => commitPage.immediate(p)),
    /** Writes records a change notification brought, with the same rules as a page, leaving every cursor alone. */
    applyChanges: (p: ChangeWrite): PageCounts => withErasure(p, () => applyChanges.immediate(p)),
    /**
     * After a sync or change batch: when it erased contacts, checkpoints the WAL into the file
     * and truncates it, so the old page images with their values are gone from the store files.
     * A reader in the middle of a transaction (serve) can hold the WAL: then the next call retries.
     */
    foldErasures(): boolean {
      if (erasedPages === 0) return true;
      if (db.inTransaction) return false;
      try {
        const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
        if (r && r.busy !== 0) return false;
      } catch {
        // a store that cannot be written now (full disk, read-only) keeps the WAL; the next sync folds it
        return false;
      }
      erasedPages = 0;
      return true;
    },
  };
}

export type SyncRepo = ReturnType<typeof createSyncRepo>;
