/**
 * Short polls: `realtime.poll` connectors (Salesforce on SystemModstamp, or
 * any other) are synced incrementally every `every`, and the customers a poll
 * touched are assigned and pushed at once, as a webhook batch would be.
 *
 * A tick that finds the pipeline lease taken, or its previous poll still
 * running, is dropped without a record: the next tick reads the same changes
 * from the saved cursor. A poll that moved nobody and pushed nothing leaves
 * no run behind: most polls find no change, and a push of the segment field
 * comes back on the next poll as changed records (SystemModstamp moves).
 */
import type { AnyConnector } from '../connector/contract.js';
import type { ConnectorConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { JobRunner, RunEnd } from '../schedule/runner.js';
import type { Store } from '../store/index.js';
import { pollOnce } from './apply.js';

export interface PollTarget {
  conn: ConnectorConfig;
  connector: AnyConnector;
  everyMs: number;
}

export type TickOutcome = { outcome: 'started'; runId: number; done: Promise<RunEnd> } | { outcome: 'skipped'; reason: string };

export class Poller {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: { runner: JobRunner; store: Store; logger: Logger; targets: readonly PollTarget[] }) {
    this.log = o.logger.child({ component: 'poll' });
  }

  start(): void {
    for (const t of this.o.targets) {
      const timer = setInterval(() => {
        this.tick(t).catch((e: unknown) => this.log.error({ err: e, connector: t.conn.name }, 'poll could not start'));
      }, t.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
    if (this.o.targets.length) this.log.info({ polls: this.o.targets.map((t) => `${t.conn.name} every ${t.everyMs / 1000} s`) }, 'short polls started');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** One poll of a connector now (what each interval does). */
  async tick(t: PollTarget): Promise<TickOutcome> {
    if (this.stopped) return { outcome: 'skipped', reason: 'stopped' };
    const name = t.conn.name;
    if (this.busy.has(name)) return { outcome: 'skipped', reason: 'the previous poll is still running' };
    const holder = this.o.runner.holder();
    if (holder) {
      this.log.debug({ connector: name, heldBy: holder.runId }, `poll of ${name} skipped: run #${holder.runId} is in progress`);
      return { outcome: 'skipped', reason: `run #${holder.runId} is in progress` };
    }
    const r = await this.o.runner.startBody('realtime', 'schedule', (ctx, runId) => pollOnce(ctx, runId, t.conn, t.connector));
    if (!r.started) {
      // lost a race for the lease: withRun recorded a skipped run; drop it like the check above would have
      return { outcome: 'skipped', reason: r.message };
    }
    this.busy.add(name);
    const done = r.done.then((end) => {
      this.busy.delete(name);
      // a poll that moved nobody and pushed nothing (no change, or the echo of our own field writes) leaves no run
      const c = end.result as { moved?: number; removed?: number; quarantined?: number; push?: { adds?: number; removes?: number } } | undefined;
      const quiet = c !== undefined && !c.moved && !c.removed && !c.quarantined && !c.push?.adds && !c.push?.removes;
      if (end.status === 'succeeded' && quiet) this.o.store.runs.discard(end.runId);
      return end;
    });
    return { outcome: 'started', runId: r.runId, done };
  }
}
