/** Sync-side writes: pages of records, quarantine and the checkpoint in one transaction. */
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
}

export interface PageCounts {
  upserted: number;
  deleted: number;
  quarantined: number;
}

export function createSyncRepo(db: Db) {
  const getCursor = db.prepare<[string, string], { cursor: string }>('SELECT cursor FROM sync_state WHERE connector = ? AND stream = ?');
  const setCursor = db.prepare(
    `INSERT INTO sync_state (connector, stream, cursor, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (connector, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
  );
  const delCursor = db.prepare('DELETE FROM sync_state WHERE connector = ? AND stream = ?');
  const insCustomer = db.prepare('INSERT OR IGNORE INTO customers (id, identity_key) VALUES (?, ?)');
  // duplicates within a source collapse to the newest updated_at
  const upContact = db.prepare(
    `INSERT INTO contacts (id, connector, external_id, customer_id, email, first_name, last_name, company, country,
                           lifecycle_stage, created_at, updated_at, deleted_at, properties)
     VALUES (@id, @connector, @externalId, @customerId, @email, @firstName, @lastName, @company, @country,
             @lifecycleStage, @createdAt, @updatedAt, @deletedAt, @properties)
     ON CONFLICT (id) DO UPDATE SET
       customer_id = excluded.customer_id, email = excluded.email, first_name = excluded.first_name,
       last_name = excluded.last_name, company = excluded.company, country = excluded.country,
       lifecycle_stage = excluded.lifecycle_stage, created_at = excluded.created_at,
       updated_at = excluded.updated_at, deleted_at = excluded.deleted_at, properties = excluded.properties
     WHERE excluded.updated_at >= contacts.updated_at`,
  );
  const contactExists = db.prepare<[string], { x: number }>('SELECT 1 AS x FROM contacts WHERE id = ?').pluck();
  const upTx = db.prepare(
    `INSERT INTO transactions (id, connector, external_id, contact_id, amount, currency, occurred_at, status, deleted_at, properties)
     VALUES (@id, @connector, @externalId, @contactId, @amount, @currency, @occurredAt, @status, @deletedAt, @properties)
     ON CONFLICT (id) DO UPDATE SET
       contact_id = excluded.contact_id, amount = excluded.amount, currency = excluded.currency,
       occurred_at = excluded.occurred_at, status = excluded.status, deleted_at = excluded.deleted_at,
       properties = excluded.properties`,
  );
  const delContact = db.prepare('UPDATE contacts SET deleted_at = ? WHERE connector = ? AND external_id = ? AND deleted_at IS NULL');
  const delTx = db.prepare('UPDATE transactions SET deleted_at = ? WHERE connector = ? AND external_id = ? AND deleted_at IS NULL');
  const insQ = db.prepare(
    'INSERT INTO quarantine (run_id, connector, stream, external_id, location, reason, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );

  const commitPage = db.transaction((p: PageWrite): PageCounts => {
    let upserted = 0;
    let deleted = 0;
    const rejected = [...p.rejected];
    for (const c of p.contacts ?? []) {
      const key = identityKey(c.id, c.email);
      const customerId = customerIdFor(key);
      insCustomer.run(customerId, key);
      upContact.run({
        id: c.id,
        connector: c.connector,
        externalId: c.externalId,
        customerId,
        email: c.email ?? null,
        firstName: c.firstName ?? null,
        lastName: c.lastName ?? null,
        company: c.company ?? null,
        country: c.country ?? null,
        lifecycleStage: c.lifecycleStage ?? null,
        createdAt: c.createdAt,
        updatedAt: c.updatedAt,
        deletedAt: c.deletedAt ?? null,
        properties: JSON.stringify(c.properties),
      });
      upserted++;
    }
    const txs = p.transactions ?? [];
    for (let i = 0; i < txs.length; i++) {
      const t = txs[i] as Transaction;
      if (!contactExists.get(t.contactId)) {
        const location = p.locations?.[i];
        rejected.push({
          externalId: t.externalId,
          reason: `contact ${t.contactId.slice(t.connector.length + 1)} not found in this connector's contacts`,
          ...(location !== undefined ? { location } : {}),
          payload: t,
        });
        continue;
      }
      upTx.run({
        id: t.id,
        connector: t.connector,
        externalId: t.externalId,
        contactId: t.contactId,
        amount: t.amount,
        currency: t.currency,
        occurredAt: t.occurredAt,
        status: t.status,
        deletedAt: t.deletedAt ?? null,
        properties: JSON.stringify(t.properties),
      });
      upserted++;
    }
    for (const id of p.deleted ?? []) {
      const r = p.stream === 'contacts' ? delContact.run(p.now, p.connector, id) : delTx.run(p.now, p.connector, id);
      deleted += r.changes;
    }
    for (const r of rejected) {
      insQ.run(p.runId, p.connector, p.stream, r.externalId ?? null, r.location ?? null, r.reason, JSON.stringify(r.payload ?? null));
    }
    setCursor.run(p.connector, p.stream, JSON.stringify(p.checkpoint), p.now);
    return { upserted, deleted, quarantined: rejected.length };
  });

  return {
    getCheckpoint(connector: string, stream: string): unknown {
      const row = getCursor.get(connector, stream);
      return row ? (JSON.parse(row.cursor) as unknown) : undefined;
    },
    resetCheckpoint(connector: string, stream: string): void {
      delCursor.run(connector, stream);
    },
    commitPage: (p: PageWrite): PageCounts => commitPage.immediate(p),
  };
}

export type SyncRepo = ReturnType<typeof createSyncRepo>;
