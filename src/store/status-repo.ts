/** Read-only summaries for `segsync status`, `runs` and the quarantine report. */
import type { Db } from './open.js';

export interface StoreCounts {
  contacts: number;
  deletedContacts: number;
  transactions: number;
  customers: number;
  quarantined: number;
}

export interface StreamState {
  connector: string;
  stream: string;
  cursor: unknown;
  updatedAt: string;
}

export interface QuarantineGroup {
  connector: string;
  stream: string;
  /** the reason's category: the text before its first ":" */
  reason: string;
  count: number;
}

export interface QuarantineRow {
  runId: number;
  connector: string;
  stream: string;
  externalId: string | null;
  location: string | null;
  reason: string;
}

/** What personal data the contacts table holds now (not what the config allows). */
export interface PersonalData {
  /** contacts (live or deleted) with a value in each personal column */
  fields: Record<'email' | 'firstName' | 'lastName' | 'company' | 'country' | 'lifecycleStage', number>;
  /** of the emails, how many are digests (privacy.hashEmails) */
  hashedEmails: number;
  /** contact property names with a value in at least one contact */
  properties: string[];
}

export interface ExportRow {
  customerId: string;
  connector: string;
  externalId: string;
  email: string | null;
  segmentId: string;
  segmentName: string;
}

export function createStatusRepo(db: Db) {
  const n = (sql: string): number => db.prepare<[], number>(sql).pluck().get() ?? 0;
  return {
    counts(): StoreCounts {
      return {
        contacts: n('SELECT COUNT(*) FROM contacts WHERE deleted_at IS NULL'),
        deletedContacts: n('SELECT COUNT(*) FROM contacts WHERE deleted_at IS NOT NULL'),
        transactions: n('SELECT COUNT(*) FROM transactions WHERE deleted_at IS NULL'),
        customers: n('SELECT COUNT(DISTINCT customer_id) FROM contacts WHERE deleted_at IS NULL'),
        quarantined: n('SELECT COUNT(*) FROM quarantine'),
      };
    },
    hasContacts(): boolean {
      return db.prepare<[], number>('SELECT EXISTS (SELECT 1 FROM contacts)').pluck().get() === 1;
    },
    personalData(): PersonalData {
      const r = db
        .prepare<[], Record<string, number>>(
          `SELECT COUNT(email) AS email, COUNT(first_name) AS firstName, COUNT(last_name) AS lastName, COUNT(company) AS company,
                  COUNT(country) AS country, COUNT(lifecycle_stage) AS lifecycleStage,
                  COALESCE(SUM(email LIKE 'h1:%'), 0) AS hashedEmails
             FROM contacts`,
        )
        .get() ?? {};
      const n = (k: string): number => r[k] ?? 0;
      const properties = db
        .prepare<[], string>(`SELECT DISTINCT j.key FROM contacts c, json_each(c.properties) j WHERE c.properties <> '{}' AND j.value IS NOT NULL ORDER BY 1`)
        .pluck()
        .all();
      return {
        fields: { email: n('email'), firstName: n('firstName'), lastName: n('lastName'), company: n('company'), country: n('country'), lifecycleStage: n('lifecycleStage') },
        hashedEmails: n('hashedEmails'),
        properties,
      };
    },
    streams(): StreamState[] {
      return db
        .prepare<[], { connector: string; stream: string; cursor: string; updated_at: string }>(
          'SELECT connector, stream, cursor, updated_at FROM sync_state ORDER BY connector, stream',
        )
        .all()
        .map((r) => ({ connector: r.connector, stream: r.stream, cursor: JSON.parse(r.cursor) as unknown, updatedAt: r.updated_at }));
    },
    quarantineGroups(runId?: number): QuarantineGroup[] {
      const where = runId === undefined ? '' : 'WHERE run_id = ?';
      const sql = `SELECT connector, stream,
                          CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS reason,
                          COUNT(*) AS count
                     FROM quarantine ${where} GROUP BY 1, 2, 3 ORDER BY count DESC`;
      const stmt = db.prepare<unknown[], QuarantineGroup>(sql);
      return runId === undefined ? stmt.all() : stmt.all(runId);
    },
    /** Memberships of a model with each contact's CRM record, for export. */
    *memberships(modelId: number): Generator<ExportRow> {
      const stmt = db.prepare<[number], [string, string, string, string | null, string, string]>(
        `SELECT m.customer_id, c.connector, c.external_id, c.email, m.segment_id, s.name
           FROM memberships m
           JOIN contacts c ON c.customer_id = m.customer_id AND c.deleted_at IS NULL
           JOIN segments s ON s.id = m.segment_id
          WHERE m.model_id = ?
          ORDER BY m.customer_id, c.connector, c.external_id`,
      );
      for (const [customerId, connector, externalId, email, segmentId, segmentName] of stmt.raw().iterate(modelId)) {
        yield { customerId, connector, externalId, email, segmentId, segmentName };
      }
    },
    quarantine(runId: number, limit: number): QuarantineRow[] {
      return db
        .prepare<[number, number], { run_id: number; connector: string; stream: string; external_id: string | null; location: string | null; reason: string }>(
          'SELECT run_id, connector, stream, external_id, location, reason FROM quarantine WHERE run_id = ? ORDER BY id LIMIT ?',
        )
        .all(runId, limit)
        .map((r) => ({ runId: r.run_id, connector: r.connector, stream: r.stream, externalId: r.external_id, location: r.location, reason: r.reason }));
    },
  };
}
