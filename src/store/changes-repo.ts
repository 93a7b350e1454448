/**
 * Change events (HubSpot webhooks) between their arrival and the real-time run
 * that applies them. The table is both the dedupe memory (a redelivered or
 * replayed event id is recognised) and a durable queue: an event is done only
 * when its run has assigned and pushed, so a crash or a held lease loses none.
 */
import type { ChangeEvent } from '../connector/contract.js';
import type { Db } from './open.js';

export interface StoredChange extends ChangeEvent {
  /** row id: the order of arrival */
  seq: number;
  receivedAt: number;
}

export interface EnqueueResult {
  accepted: number;
  /** event ids seen before (redelivered or replayed) */
  duplicates: number;
}

export function createChangesRepo(db: Db) {
  const ins = db.prepare(
    `INSERT INTO change_events (source, event_id, action, object_id, merged_ids, occurred_at, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, event_id) DO NOTHING`,
  );
  const pending = db.prepare<[string, number], { id: number; event_id: string; action: ChangeEvent['action']; object_id: string; merged_ids: string; occurred_at: number; received_at: number }>(
    `SELECT id, event_id, action, object_id, merged_ids, occurred_at, received_at FROM change_events
      WHERE source = ? AND done_at IS NULL ORDER BY id LIMIT ?`,
  );
  const pendingCount = db.prepare<[string], number>('SELECT COUNT(*) FROM change_events WHERE source = ? AND done_at IS NULL').pluck();
  const oldestPending = db.prepare<[string], number | null>('SELECT MIN(received_at) FROM change_events WHERE source = ? AND done_at IS NULL').pluck();
  const done = db.prepare('UPDATE change_events SET done_at = ?, run_id = ? WHERE id = ? AND done_at IS NULL');
  const prune = db.prepare('DELETE FROM change_events WHERE done_at IS NOT NULL AND done_at < ?');
  const counts = db.prepare<[string], { done: number; pending: number }>(
    `SELECT COALESCE(SUM(done_at IS NOT NULL), 0) AS done, COALESCE(SUM(done_at IS NULL), 0) AS pending FROM change_events WHERE source = ?`,
  );

  const enqueue = db.transaction((source: string, events: readonly ChangeEvent[], nowMs: number): EnqueueResult => {
    let accepted = 0;
    for (const e of events) {
      accepted += ins.run(source, e.eventId, e.action, e.objectId, JSON.stringify(e.mergedIds), e.occurredAt, nowMs).changes;
    }
    return { accepted, duplicates: events.length - accepted };
  });
  const markDone = db.transaction((seqs: readonly number[], runId: number, nowMs: number): number => {
    let n = 0;
    for (const s of seqs) n += done.run(nowMs, runId, s).changes;
    return n;
  });

  return {
    /**
     * Real-time runs assign a few customers at a time: their transactions must be
     * found by contact, not by scanning the table (10x faster at 200,000
     * transactions, and it grows with the store). Bulk syncs skip this index (it
     * slows random-key inserts), so it is made only where real-time runs happen,
     * once (seconds on millions of rows). Returns true when it was created now.
     */
    ensureContactIndex(): boolean {
      const had = db.prepare<[], number>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'transactions_contact'").pluck().get() === 1;
      if (!had) db.exec('CREATE INDEX IF NOT EXISTS transactions_contact ON transactions(contact_id)');
      return !had;
    },
    /** Records new events in one transaction; ids already known (done or pending) are counted, not stored again. */
    enqueue: (source: string, events: readonly ChangeEvent[], nowMs: number): EnqueueResult => enqueue.immediate(source, events, nowMs),
    /** The oldest events not yet applied, in arrival order. */
    pending(source: string, limit: number): StoredChange[] {
      return pending.all(source, limit).map((r) => ({
        seq: r.id,
        eventId: r.event_id,
        action: r.action,
        objectId: r.object_id,
        mergedIds: JSON.parse(r.merged_ids) as string[],
        occurredAt: r.occurred_at,
        receivedAt: r.received_at,
      }));
    },
    pendingCount(source: string): number {
      return pendingCount.get(source) ?? 0;
    },
    /** When the oldest waiting event arrived (epoch ms), or undefined when none waits. */
    oldestPending(source: string): number | undefined {
      return oldestPending.get(source) ?? undefined;
    },
    /** Marks events applied by a run, in one transaction. */
    markDone: (seqs: readonly number[], runId: number, nowMs: number): number => markDone.immediate(seqs, runId, nowMs),
    /** Forgets applied events done before `beforeMs` (their ids then no longer dedupe). Pending ones are never pruned. */
    prune(beforeMs: number): number {
      return prune.run(beforeMs).changes;
    },
    counts(source: string): { done: number; pending: number } {
      return counts.get(source) ?? { done: 0, pending: 0 };
    },
  };
}

export type ChangesRepo = ReturnType<typeof createChangesRepo>;
