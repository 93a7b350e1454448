/** Reads for feature building: per-customer transaction aggregates and contact properties. */
import type { Db } from './open.js';

export interface TxAggregate {
  customerId: string;
  currency: string;
  count: number;
  sum: number;
  first: string;
  last: string;
}

export interface CustomerProps {
  customerId: string;
  /** one value per requested property, in order; null when missing or not numeric */
  values: (number | null)[];
}

/**
 * `only` restricts a read to some customers (assignment of the customers a sync
 * touched); it travels as one JSON array parameter, so any number of ids costs
 * one statement. Without an index on transactions.contact_id the transaction
 * aggregate still scans the table once (SQLite filters it with a bloom filter).
 */
const ONLY = 'customer_id IN (SELECT value FROM json_each(?))';
const onlyArgs = (only: readonly string[] | undefined): string[] => (only ? [JSON.stringify(only)] : []);

export function createFeaturesRepo(db: Db) {
  return {
    /**
     * Customers with at least one live contact, sorted by id (a stable row order for the matrix).
     * A full read scans the table and sorts: walking the customer_id index costs a table
     * lookup per contact for deleted_at, about twice as slow at 1,000,000 contacts.
     */
    activeCustomerIds(only?: readonly string[]): string[] {
      return db
        .prepare<string[], string>(
          `SELECT DISTINCT customer_id FROM contacts${only ? '' : ' NOT INDEXED'} WHERE deleted_at IS NULL${only ? ` AND ${ONLY}` : ''} ORDER BY customer_id`,
        )
        .pluck()
        .all(...onlyArgs(only));
    },
    /**
     * Won, live transactions of live contacts, aggregated per customer and currency.
     * A full read first aggregates per contact in one scan and sort of the
     * transactions, so only one row per contact and currency is looked up in
     * contacts: joining first costs a contacts lookup per transaction, about
     * three times slower at 10,000,000 transactions. With `only` the join comes
     * first, so the few customers asked for are not preceded by a sort of all.
     */
    *wonAggregates(only?: readonly string[]): Generator<TxAggregate> {
      const sql = only
        ? `SELECT c.customer_id, t.currency, COUNT(*), SUM(t.amount), MIN(t.occurred_at), MAX(t.occurred_at)
             FROM transactions t JOIN contacts c ON c.id = t.contact_id
            WHERE t.status = 'won' AND t.deleted_at IS NULL AND c.deleted_at IS NULL AND c.${ONLY}
            GROUP BY c.customer_id, t.currency`
        : `SELECT c.customer_id, a.currency, SUM(a.n), SUM(a.s), MIN(a.f), MAX(a.l)
             FROM (SELECT contact_id, currency, COUNT(*) AS n, SUM(amount) AS s, MIN(occurred_at) AS f, MAX(occurred_at) AS l
                     FROM transactions WHERE status = 'won' AND deleted_at IS NULL
                    GROUP BY contact_id, currency) a
             JOIN contacts c ON c.id = a.contact_id
            WHERE c.deleted_at IS NULL
            GROUP BY c.customer_id, a.currency`;
      const stmt = db.prepare<string[], [string, string, number, number, string, string]>(sql);
      // The full read sorts every won transaction (10,000,000 rows: about 800 MB
      // with the store's in-memory temp storage). On disk the sorter keeps only
      // a cache's worth in memory and spills the rest to temporary files.
      const spill = !only && db.pragma('temp_store', { simple: true }) === 2;
      if (spill) db.pragma('temp_store = FILE');
      try {
        for (const [customerId, currency, count, sum, first, last] of stmt.raw().iterate(...onlyArgs(only))) {
          yield { customerId, currency, count, sum, first, last };
        }
      } finally {
        if (spill) db.pragma('temp_store = MEMORY');
      }
    },
    /** Numeric contact properties per customer (the newest live contact wins when a customer has several). */
    *contactProperties(names: readonly string[], only?: readonly string[]): Generator<CustomerProps> {
      if (names.length === 0) return;
      const cols = names.map(() => 'json_extract(properties, ?)').join(', ');
      const stmt = db.prepare<string[], unknown[]>(
        `SELECT customer_id, ${cols} FROM contacts WHERE deleted_at IS NULL${only ? ` AND ${ONLY}` : ''} ORDER BY customer_id, updated_at`,
      );
      let cur: CustomerProps | undefined;
      for (const row of stmt.raw().iterate(...names.map((n) => `$."${n.replace(/"/g, '""')}"`), ...onlyArgs(only))) {
        const id = row[0] as string;
        const values = row.slice(1).map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null));
        if (cur && cur.customerId !== id) {
          yield cur;
          cur = undefined;
        }
        // later rows are newer: keep their non-null values
        cur = cur ? { customerId: id, values: values.map((v, i) => v ?? cur?.values[i] ?? null) } : { customerId: id, values };
      }
      if (cur) yield cur;
    },
    /**
     * Categorical values per customer as text (the newest live contact with a value wins):
     * `lifecycle_stage` and `country` are contact columns, any other name a property.
     */
    *contactCategories(names: readonly string[], only?: readonly string[]): Generator<CustomerCategories> {
      if (names.length === 0) return;
      const cols = names.map((n) => (CONTACT_COLUMNS.has(n) ? n : 'json_extract(properties, ?)')).join(', ');
      const params = names.filter((n) => !CONTACT_COLUMNS.has(n)).map((n) => `$."${n.replace(/"/g, '""')}"`);
      const stmt = db.prepare<string[], unknown[]>(
        `SELECT customer_id, ${cols} FROM contacts WHERE deleted_at IS NULL${only ? ` AND ${ONLY}` : ''} ORDER BY customer_id, updated_at`,
      );
      let cur: CustomerCategories | undefined;
      for (const row of stmt.raw().iterate(...params, ...onlyArgs(only))) {
        const id = row[0] as string;
        const values = row.slice(1).map((v) => (v === null || v === undefined ? null : typeof v === 'string' ? (v.trim() === '' ? null : v.trim()) : String(v)));
        if (cur && cur.customerId !== id) {
          yield cur;
          cur = undefined;
        }
        cur = cur ? { customerId: id, values: values.map((v, i) => v ?? cur?.values[i] ?? null) } : { customerId: id, values };
      }
      if (cur) yield cur;
    },
  };
}

/** Categorical features read from the contact's own columns rather than its properties. */
const CONTACT_COLUMNS = new Set(['lifecycle_stage', 'country']);

export interface CustomerCategories {
  customerId: string;
  /** one value per requested name, in order; null when missing */
  values: (string | null)[];
}

export type FeaturesRepo = ReturnType<typeof createFeaturesRepo>;
