/**
 * Reads for the visual segment report (src/report): segment moves between two
 * models, members of a model for sampling, the CRM list of each segment, and
 * the feature reads of src/features restricted to a sample of customers, so
 * the segment map never aggregates the whole transaction table.
 */
import type { Db } from './open.js';
import { createFeaturesRepo, type CustomerCategories, type CustomerProps, type FeaturesRepo, type TxAggregate } from './features-repo.js';

export interface SegmentMove {
  fromSegmentId: string;
  toSegmentId: string;
  count: number;
}

export interface TargetList {
  target: string;
  segmentId: string;
  listId: string;
  name: string;
}

let sampleSeq = 0;

export function createReportRepo(db: Db) {
  const prev = db.prepare<[number], number>('SELECT id FROM models WHERE id < ? ORDER BY id DESC LIMIT 1').pluck();
  const moves = db.prepare<[number, number], { from_id: string; to_id: string; n: number }>(
    `SELECT p.segment_id AS from_id, c.segment_id AS to_id, COUNT(*) AS n
       FROM memberships c
       JOIN memberships p ON p.customer_id = c.customer_id AND p.model_id = ?
      WHERE c.model_id = ?
      GROUP BY p.segment_id, c.segment_id`,
  );
  const slots = db.prepare<[number], { lo: number | null; hi: number | null }>(
    'SELECT MIN(rowid) AS lo, MAX(rowid) AS hi FROM memberships WHERE model_id = ?',
  );
  const atSlot = db.prepare<[number, number], [string, string]>('SELECT customer_id, segment_id FROM memberships WHERE rowid = ? AND model_id = ?');
  const txSlots = db.prepare<[], { lo: number | null; hi: number | null }>('SELECT MIN(rowid) AS lo, MAX(rowid) AS hi FROM transactions');
  const lists = db.prepare<[], { target: string; segment_id: string; list_id: string; name: string }>(
    'SELECT target, segment_id, list_id, name FROM target_lists ORDER BY target, segment_id',
  );

  return {
    /** The model saved just before this one, if any. */
    previousModelId(modelId: number): number | undefined {
      return prev.get(modelId);
    },
    /** from -> to segment counts over the customers present in both models. */
    segmentMoves(fromModelId: number, toModelId: number): SegmentMove[] {
      return moves.all(fromModelId, toModelId).map((r) => ({ fromSegmentId: r.from_id, toSegmentId: r.to_id, count: r.n }));
    },
    /**
     * The slots [first, last] a model's memberships occupy (they are written in
     * one transaction, so together), for seeded sampling by point lookups
     * instead of a scan of the model's rows. SQLite's rowid; a PostgreSQL
     * store would sample with TABLESAMPLE instead.
     */
    memberSlots(modelId: number): { first: number; last: number } | undefined {
      const r = slots.get(modelId);
      return r && r.lo !== null && r.hi !== null ? { first: r.lo, last: r.hi } : undefined;
    },
    /** (customer id, segment id) at a slot, when that slot holds a membership of this model. */
    memberAt(modelId: number, slot: number): [string, string] | undefined {
      return atSlot.raw().get(slot, modelId);
    },
    /** The slots [first, last] of the transactions table, to split its scan between threads (SQLite's rowid). */
    transactionSlots(): { first: number; last: number } | undefined {
      const r = txSlots.get();
      return r && r.lo !== null && r.hi !== null ? { first: r.lo, last: r.hi } : undefined;
    },
    targetLists(): TargetList[] {
      return lists.all().map((r) => ({ target: r.target, segmentId: r.segment_id, listId: r.list_id, name: r.name }));
    },
    /**
     * The feature reads of `FeaturesRepo`, restricted to these customers: one
     * scan of the transactions table that keeps only the sample's contacts, so
     * the cost does not include grouping every customer. With `slots`, only
     * that part of the transactions table (one thread's share of the scan).
     */
    featuresFor(customerIds: readonly string[], slots?: { first: number; last: number }): FeaturesRepo {
      const ids = JSON.stringify([...customerIds]);
      return {
        activeCustomerIds(): string[] {
          return db
            .prepare<[string], string>(
              `SELECT DISTINCT customer_id FROM contacts
                WHERE deleted_at IS NULL AND customer_id IN (SELECT value FROM json_each(?))
                ORDER BY customer_id`,
            )
            .pluck()
            .all(ids);
        },
        *wonAggregates(): Generator<TxAggregate> {
          const contacts = new Map(
            db
              .prepare<[string], [string, string]>('SELECT id, customer_id FROM contacts WHERE deleted_at IS NULL AND customer_id IN (SELECT value FROM json_each(?))')
              .raw()
              .all(ids),
          );
          // One sequential scan of transactions (no index on contact_id; with one, SQLite seeks
          // instead), testing each row against the sample's contact ids in a temp table: the
          // cheapest test measured (a JSON list or a JS function cost a third more).
          // Aggregates come per contact and currency: buildFeatures adds a customer's contacts up.
          const table = `report_sample_${++sampleSeq}`;
          db.exec(`CREATE TEMP TABLE ${table} (id TEXT PRIMARY KEY) WITHOUT ROWID`);
          try {
            const ins = db.prepare(`INSERT INTO temp.${table} (id) VALUES (?)`);
            db.transaction(() => {
              for (const id of contacts.keys()) ins.run(id);
            })();
            const range = slots ? 'rowid BETWEEN ? AND ? AND ' : '';
            // the matching rows, summed here: a GROUP BY in SQL measured a third slower over 10M rows
            const stmt = db.prepare<number[], [string, string, number, string]>(
              `SELECT contact_id, currency, amount, occurred_at
                 FROM transactions
                WHERE ${range}contact_id IN temp.${table} AND status = 'won' AND deleted_at IS NULL`,
            );
            const sums = new Map<string, Omit<TxAggregate, 'customerId'> & { contactId: string }>();
            for (const [contactId, currency, amount, at] of stmt.raw().iterate(...(slots ? [slots.first, slots.last] : []))) {
              const key = `${contactId}\u0000${currency}`;
              const a = sums.get(key);
              if (a) {
                a.count++;
                a.sum += amount;
                if (at < a.first) a.first = at;
                if (at > a.last) a.last = at;
              } else sums.set(key, { contactId, currency, count: 1, sum: amount, first: at, last: at });
            }
            for (const { contactId, ...a } of sums.values()) {
              const customerId = contacts.get(contactId);
              if (customerId !== undefined) yield { customerId, ...a };
            }
          } finally {
            db.exec(`DROP TABLE IF EXISTS temp.${table}`);
          }
        },
        *contactProperties(names: readonly string[]): Generator<CustomerProps> {
          if (names.length === 0) return;
          const cols = names.map(() => 'json_extract(properties, ?)').join(', ');
          const stmt = db.prepare<string[], unknown[]>(
            `SELECT customer_id, ${cols} FROM contacts
              WHERE deleted_at IS NULL AND customer_id IN (SELECT value FROM json_each(?))
              ORDER BY customer_id, updated_at`,
          );
          let cur: CustomerProps | undefined;
          for (const row of stmt.raw().iterate(...names.map((n) => `$."${n.replace(/"/g, '""')}"`), ids)) {
            const id = row[0] as string;
            const values = row.slice(1).map(numeric);
            if (cur && cur.customerId !== id) {
              yield cur;
              cur = undefined;
            }
            // later rows are newer: keep their non-null values (as features-repo does)
            cur = cur ? { customerId: id, values: values.map((v, i) => v ?? cur?.values[i] ?? null) } : { customerId: id, values };
          }
          if (cur) yield cur;
        },
        *contactCategories(names: readonly string[]): Generator<CustomerCategories> {
          yield* createFeaturesRepo(db).contactCategories(names, customerIds);
        },
      };
    },
  };
}

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

export type ReportRepo = ReturnType<typeof createReportRepo>;
