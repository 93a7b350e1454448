/**
 * Erasing one person (GDPR art. 17): every row that holds their data goes, with
 * SQLite's secure_delete so freed pages are zeroed, then the WAL is folded back
 * and truncated and the file vacuumed, so no byte of them stays in the store files.
 */
import type { Db } from './open.js';

export interface ForgetCounts {
  contacts: number;
  transactions: number;
  customers: number;
  memberships: number;
  pushed: number;
  outbox: number;
  quarantine: number;
}

export function createForgetRepo(db: Db) {
  /** The contacts with this (normalized) email, in every connector. */
  const contactsByEmail = (email: string): { id: string; connector: string; externalId: string; customerId: string }[] =>
    db
      .prepare<[string], { id: string; connector: string; external_id: string; customer_id: string }>(
        'SELECT id, connector, external_id, customer_id FROM contacts WHERE email = ?',
      )
      .all(email)
      .map((r) => ({ id: r.id, connector: r.connector, externalId: r.external_id, customerId: r.customer_id }));
  return {
    contactsByEmail,
    /**
     * `email` is the normalized address; `stored` its form in the store when
     * that differs (a digest, with privacy.hashEmails): contacts are found by
     * the stored form, quarantine payloads by either.
     */
    erase(email: string, pushTargets: readonly string[], opts: { stored?: string } = {}): ForgetCounts {
      const stored = opts.stored ?? email;
      db.pragma('secure_delete = ON');
      const counts = db.transaction((): ForgetCounts => {
        const contacts = contactsByEmail(stored);
        const c: ForgetCounts = { contacts: 0, transactions: 0, customers: 0, memberships: 0, pushed: 0, outbox: 0, quarantine: 0 };
        const customerIds = [...new Set(contacts.map((x) => x.customerId))];
        for (const x of contacts) {
          c.transactions += db.prepare('DELETE FROM transactions WHERE contact_id = ?').run(x.id).changes;
          c.contacts += db.prepare('DELETE FROM contacts WHERE id = ?').run(x.id).changes;
          for (const t of pushTargets) {
            c.pushed += db.prepare('DELETE FROM pushed WHERE target = ? AND external_id = ?').run(t, x.externalId).changes;
            c.outbox += db.prepare('DELETE FROM outbox WHERE target = ? AND external_id = ?').run(t, x.externalId).changes;
          }
          c.quarantine += db.prepare('DELETE FROM quarantine WHERE connector = ? AND external_id = ?').run(x.connector, x.externalId).changes;
        }
        for (const id of customerIds) {
          // another contact (say, in another CRM) may still hold this customer under another email
          const left = db.prepare('SELECT COUNT(*) FROM contacts WHERE customer_id = ?').pluck().get(id) as number;
          if (left > 0) continue;
          c.memberships += db.prepare('DELETE FROM memberships WHERE customer_id = ?').run(id).changes;
          c.customers += db.prepare('DELETE FROM customers WHERE id = ?').run(id).changes;
        }
        // rejected rows keep raw payloads: any that mention the address go too
        c.quarantine += db.prepare('DELETE FROM quarantine WHERE instr(lower(payload), ?) > 0 OR instr(lower(payload), ?) > 0').run(email, stored).changes;
        return c;
      }).immediate();
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.exec('VACUUM');
      db.pragma('wal_checkpoint(TRUNCATE)');
      return counts;
    },
  };
}

export type ForgetRepo = ReturnType<typeof createForgetRepo>;
