/**
 * Push state: what each target has acknowledged, the outbox, and remote list handles.
 * Outbox states: pending -> done | failed (retried by the next push) | rejected (the CRM
 * refused the record itself, e.g. deleted there: kept with its reason until the next
 * push of the target re-evaluates it) | superseded (replaced by a newer plan).
 */
import type { Db } from './open.js';

export interface DesiredRow {
  externalId: string;
  customerId: string;
  email: string | null;
  segmentId: string;
  segmentName: string;
}

export interface OutboxOp {
  id: number;
  opKey: string;
  op: 'add' | 'remove';
  externalId: string;
  customerId: string;
  segmentId: string;
  attempts: number;
}

export interface PlannedOp {
  opKey: string;
  op: 'add' | 'remove';
  externalId: string;
  customerId: string;
  segmentId: string;
}

export interface Ack {
  id: number;
  ok: boolean;
  error?: string;
  /** a failure of the record itself (OpResult.permanent): recorded as rejected */
  permanent?: boolean;
}

export interface RejectedOp {
  runId: number;
  op: 'add' | 'remove';
  externalId: string;
  segmentId: string;
  error: string;
}

export function createPushRepo(db: Db) {
  const desired = db.prepare<[{ connector: string; model: number }], [string, string, string | null, string, string]>(
    `SELECT c.external_id, c.customer_id, c.email, m.segment_id, s.name
       FROM contacts c
       JOIN memberships m ON m.customer_id = c.customer_id AND m.model_id = @model
       JOIN segments s ON s.id = m.segment_id
      WHERE c.connector = @connector AND c.deleted_at IS NULL
      ORDER BY c.external_id`,
  );
  const desiredOf = db.prepare<[{ connector: string; model: number; only: string }], [string, string, string | null, string, string]>(
    `SELECT c.external_id, c.customer_id, c.email, m.segment_id, s.name
       FROM contacts c
       JOIN memberships m ON m.customer_id = c.customer_id AND m.model_id = @model
       JOIN segments s ON s.id = m.segment_id
      WHERE c.connector = @connector AND c.deleted_at IS NULL AND c.customer_id IN (SELECT value FROM json_each(@only))
      ORDER BY c.external_id`,
  );
  const pushed = db.prepare<[string], [string, string, string]>('SELECT external_id, segment_id, customer_id FROM pushed WHERE target = ?');
  const pushedOf = db.prepare<[{ target: string; customers: string; records: string }], [string, string, string]>(
    `SELECT external_id, segment_id, customer_id FROM pushed
      WHERE target = @target AND (customer_id IN (SELECT value FROM json_each(@customers)) OR external_id IN (SELECT value FROM json_each(@records)))`,
  );
  const supersede = db.prepare("UPDATE outbox SET state = 'superseded' WHERE target = ? AND state IN ('pending', 'failed', 'rejected')");
  const settle = db.prepare("UPDATE outbox SET state = 'superseded' WHERE target = ? AND state = 'rejected'");
  const insOp = db.prepare(
    `INSERT INTO outbox (run_id, target, op_key, op, external_id, customer_id, segment_id, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')
     ON CONFLICT (run_id, target, op_key) DO UPDATE SET state = 'pending', last_error = NULL`,
  );
  const pending = db.prepare<[string, number, number], { id: number; op_key: string; op: 'add' | 'remove'; external_id: string; customer_id: string; segment_id: string; attempts: number }>(
    "SELECT id, op_key, op, external_id, customer_id, segment_id, attempts FROM outbox WHERE target = ? AND state = 'pending' AND id > ? ORDER BY id LIMIT ?",
  );
  const opById = db.prepare<[number], { op: string; external_id: string; customer_id: string; segment_id: string }>(
    'SELECT op, external_id, customer_id, segment_id FROM outbox WHERE id = ?',
  );
  const done = db.prepare("UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = NULL WHERE id = ?");
  const failed = db.prepare("UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?");
  const rejected = db.prepare<[string, number], { run_id: number; op: 'add' | 'remove'; external_id: string; segment_id: string; last_error: string | null }>(
    "SELECT run_id, op, external_id, segment_id, last_error FROM outbox WHERE target = ? AND state = 'rejected' ORDER BY id LIMIT ?",
  );
  const upPushed = db.prepare(
    `INSERT INTO pushed (target, external_id, customer_id, segment_id, pushed_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (target, external_id) DO UPDATE SET customer_id = excluded.customer_id, segment_id = excluded.segment_id, pushed_at = excluded.pushed_at`,
  );
  const delPushed = db.prepare('DELETE FROM pushed WHERE target = ? AND external_id = ? AND segment_id = ?');
  const lists = db.prepare<[string], { segment_id: string; list_id: string; name: string }>(
    'SELECT segment_id, list_id, name FROM target_lists WHERE target = ?',
  );
  const putList = db.prepare(
    `INSERT INTO target_lists (target, segment_id, list_id, name) VALUES (?, ?, ?, ?)
     ON CONFLICT (target, segment_id) DO UPDATE SET list_id = excluded.list_id, name = excluded.name`,
  );
  const counts = db.prepare<[string], { state: string; n: number }>('SELECT state, COUNT(*) AS n FROM outbox WHERE target = ? GROUP BY state');

  const plan = db.transaction((runId: number, target: string, ops: readonly PlannedOp[]): void => {
    supersede.run(target);
    for (const o of ops) insOp.run(runId, target, o.opKey, o.op, o.externalId, o.customerId, o.segmentId);
  });

  const ack = db.transaction((target: string, acks: readonly Ack[], now: string): void => {
    for (const a of acks) {
      if (!a.ok) {
        failed.run(a.permanent ? 'rejected' : 'failed', a.error ?? 'failed', a.id);
        continue;
      }
      const o = opById.get(a.id);
      if (!o) continue;
      done.run(a.id);
      if (o.op === 'add') upPushed.run(target, o.external_id, o.customer_id, o.segment_id, now);
      else delPushed.run(target, o.external_id, o.segment_id);
    }
  });

  return {
    *desired(connector: string, modelId: number): Generator<DesiredRow> {
      for (const [externalId, customerId, email, segmentId, segmentName] of desired.raw().iterate({ connector, model: modelId })) {
        yield { externalId, customerId, email, segmentId, segmentName };
      }
    },
    /** desired() for some customers only */
    desiredOf(connector: string, modelId: number, customerIds: readonly string[]): DesiredRow[] {
      return desiredOf
        .raw()
        .all({ connector, model: modelId, only: JSON.stringify(customerIds) })
        .map(([externalId, customerId, email, segmentId, segmentName]) => ({ externalId, customerId, email, segmentId, segmentName }));
    },
    /** pushed() for the records of some customers, or with some external ids */
    pushedOf(target: string, customerIds: readonly string[], externalIds: readonly string[]): Map<string, { segmentId: string; customerId: string }> {
      const out = new Map<string, { segmentId: string; customerId: string }>();
      for (const [e, s, c] of pushedOf.raw().iterate({ target, customers: JSON.stringify(customerIds), records: JSON.stringify(externalIds) })) out.set(e, { segmentId: s, customerId: c });
      return out;
    },
    /** external id -> { segmentId, customerId } acknowledged by the target */
    pushed(target: string): Map<string, { segmentId: string; customerId: string }> {
      const out = new Map<string, { segmentId: string; customerId: string }>();
      for (const [e, s, c] of pushed.raw().iterate(target)) out.set(e, { segmentId: s, customerId: c });
      return out;
    },
    /** Replaces whatever was still pending for the target with this plan, in one transaction. */
    planOutbox: (runId: number, target: string, ops: readonly PlannedOp[]): void => plan.immediate(runId, target, ops),
    pendingBatch(target: string, afterId: number, limit: number): OutboxOp[] {
      return pending.all(target, afterId, limit).map((r) => ({
        id: r.id,
        opKey: r.op_key,
        op: r.op,
        externalId: r.external_id,
        customerId: r.customer_id,
        segmentId: r.segment_id,
        attempts: r.attempts,
      }));
    },
    /** Records one acknowledged batch: outbox states and the pushed state, together. */
    ackBatch: (target: string, acks: readonly Ack[], now: string): void => ack.immediate(target, acks, now),
    /** segment id -> the segment name its remote list was last given */
    listNames(target: string): Record<string, string> {
      return Object.fromEntries(lists.all(target).map((r) => [r.segment_id, r.name]));
    },
    lists(target: string): Record<string, string> {
      return Object.fromEntries(lists.all(target).map((r) => [r.segment_id, r.list_id]));
    },
    putLists(target: string, ids: Record<string, { listId: string; name: string }>): void {
      db.transaction(() => {
        for (const [seg, v] of Object.entries(ids)) putList.run(target, seg, v.listId, v.name);
      })();
    },
    /** The records the target's last push recorded as rejected, oldest first. */
    rejected(target: string, limit: number): RejectedOp[] {
      return rejected.all(target, limit).map((r) => ({ runId: r.run_id, op: r.op, externalId: r.external_id, segmentId: r.segment_id, error: r.last_error ?? 'rejected' }));
    },
    /** A push with nothing left to send: the rejections recorded earlier are settled (planOutbox does it otherwise). */
    settleRejected: (target: string): void => void settle.run(target),
    outboxCounts(target: string): Record<string, number> {
      return Object.fromEntries(counts.all(target).map((r) => [r.state, r.n]));
    },
  };
}

export type PushRepo = ReturnType<typeof createPushRepo>;
