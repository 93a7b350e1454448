/**
 * Reads for `segsync serve`: the run lease's holder, paged runs, the model a
 * run produced, and a segment's members page by page. Read-only: the scheduler
 * writes through the runs repo like every other command.
 */
import type { Db } from './open.js';
import { toRun, type RunKind, type RunRecord, type RunRow, type RunStatus } from './runs-repo.js';

export interface LeaseRow {
  job: string;
  runId: number;
  holder: string;
  /** epoch milliseconds */
  expiresAt: number;
}

export interface RunsQuery {
  limit: number;
  /** only runs with a smaller id (the `next` of the previous page) */
  before?: number;
  kind?: RunKind;
  status?: RunStatus;
}

export interface MemberRow {
  customerId: string;
  confidence: number | null;
  distance: number | null;
  /** the customer's live CRM records: "connector:externalId" */
  contacts: string[];
  email: string | null;
}

export function createServeRepo(db: Db) {
  const lease = db.prepare<[string], { job: string; run_id: number; holder: string; expires_at: number }>(
    'SELECT job, run_id, holder, expires_at FROM locks WHERE job = ?',
  );
  const lastOfKind = db.prepare<[string], RunRow>("SELECT * FROM runs WHERE kind = ? AND status <> 'skipped' ORDER BY id DESC LIMIT 1");
  const maxRun = db.prepare<[], { id: number | null; finished: number }>(
    'SELECT MAX(id) AS id, (SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL) AS finished FROM runs',
  );
  const modelOfRun = db.prepare<[number], number>('SELECT id FROM models WHERE run_id = ? ORDER BY id DESC LIMIT 1').pluck();
  const memberCount = db.prepare<[number, string], number>('SELECT COUNT(*) FROM memberships WHERE model_id = ? AND segment_id = ?').pluck();
  const members = db.prepare<[number, string, string, number], { customer_id: string; confidence: number | null; distance: number | null }>(
    `SELECT customer_id, confidence, distance FROM memberships
      WHERE model_id = ? AND segment_id = ? AND customer_id > ?
      ORDER BY customer_id
      LIMIT ?`,
  );
  const contactsOf = (ids: readonly string[]) =>
    db
      .prepare<string[], { customer_id: string; connector: string; external_id: string; email: string | null }>(
        `SELECT customer_id, connector, external_id, email FROM contacts
          WHERE deleted_at IS NULL AND customer_id IN (${ids.map(() => '?').join(', ')})
          ORDER BY customer_id, connector, external_id`,
      )
      .all(...ids);

  return {
    /** The lease row of a job, live or expired (the caller judges expiry and dead holders). */
    lease(job: string): LeaseRow | undefined {
      const r = lease.get(job);
      return r ? { job: r.job, runId: r.run_id, holder: r.holder, expiresAt: r.expires_at } : undefined;
    },
    /** Newest first; `before` pages backwards by id. */
    runs(q: RunsQuery): RunRecord[] {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.before !== undefined) {
        where.push('id < ?');
        args.push(q.before);
      }
      if (q.kind !== undefined) {
        where.push('kind = ?');
        args.push(q.kind);
      }
      if (q.status !== undefined) {
        where.push('status = ?');
        args.push(q.status);
      }
      const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      return db
        .prepare<(string | number)[], RunRow>(sql)
        .all(...args, q.limit)
        .map(toRun);
    },
    /** The newest run of a kind that was not skipped. */
    lastRun(kind: RunKind): RunRecord | undefined {
      const r = lastOfKind.get(kind);
      return r ? toRun(r) : undefined;
    },
    /** Changes whenever a run starts or finishes: a cheap key for caches. */
    runsVersion(): string {
      const r = maxRun.get();
      return `${r?.id ?? 0}:${r?.finished ?? 0}`;
    },
    modelIdOfRun(runId: number): number | undefined {
      return modelOfRun.get(runId);
    },
    segmentMemberCount(modelId: number, segmentId: string): number {
      return memberCount.get(modelId, segmentId) ?? 0;
    },
    /** One page of a segment's customers in customer id order, after `after` (exclusive). */
    segmentMembers(modelId: number, segmentId: string, after: string, limit: number): MemberRow[] {
      const rows = members.all(modelId, segmentId, after, limit);
      const byCustomer = new Map<string, { contacts: string[]; email: string | null }>(rows.map((r) => [r.customer_id, { contacts: [], email: null }]));
      if (rows.length) {
        for (const c of contactsOf(rows.map((r) => r.customer_id))) {
          const m = byCustomer.get(c.customer_id);
          if (!m) continue;
          m.contacts.push(`${c.connector}:${c.external_id}`);
          if (c.email !== null && (m.email === null || c.email < m.email)) m.email = c.email;
        }
      }
      return rows.map((r) => ({
        customerId: r.customer_id,
        confidence: r.confidence,
        distance: r.distance,
        contacts: byCustomer.get(r.customer_id)?.contacts ?? [],
        email: byCustomer.get(r.customer_id)?.email ?? null,
      }));
    },
  };
}

export type ServeRepo = ReturnType<typeof createServeRepo>;
