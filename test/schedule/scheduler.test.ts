/**
 * The scheduler and the job runner: one run at a time through the pipeline
 * lease, skipped fires recorded, waiting for another job, push after segment,
 * resuming interrupted runs, and leases left by dead or expired holders.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore, type Store } from '../../src/store/index.js';
import { JobRunner, PIPELINE_LEASE } from '../../src/schedule/runner.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import type { JobBodies, JobKind } from '../../src/schedule/jobs.js';
import type { ScheduleConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/logger.js';
import { withRun } from '../../src/jobs/with-run.js';
import { tempDir, testConfig } from '../support/store-fixture.js';
import { baseContext, ROOT, waitFor } from '../server/fixture.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}
const gate = (): Gate => {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
};

/** Job bodies that wait on a gate per kind (open by default) and record their calls. */
function fakeBodies() {
  const gates: Partial<Record<JobKind, Gate>> = {};
  const calls: { kind: JobKind; runId: number; trigger: string; aborted: boolean }[] = [];
  const body =
    (kind: JobKind) =>
    async (ctx: Parameters<JobBodies['sync']>[0], runId: number): Promise<{ result: unknown; counts: Record<string, unknown> }> => {
      calls.push({ kind, runId, trigger: ctx.trigger, aborted: false });
      const g = gates[kind];
      if (g && !ctx.signal.aborted) {
        // a page loop: stop at the next "page" when aborted
        await Promise.race([g.promise, new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }))]);
      }
      const call = calls.find((c) => c.runId === runId);
      if (call) call.aborted = ctx.signal.aborted;
      return { result: null, counts: { fake: kind } };
    };
  const bodies: JobBodies = { sync: body('sync'), segment: body('segment'), push: body('push') };
  return { bodies, gates, calls, hold: (k: JobKind) => (gates[k] = gate()) };
}

const opened: { store: Store; runner: JobRunner; scheduler?: Scheduler }[] = [];

function setup(schedule?: ScheduleConfig, opts: { maxWaitMs?: number } = {}) {
  const dir = tempDir();
  const store = openStore(join(dir, 'store.db'));
  const fake = fakeBodies();
  const runner = new JobRunner({ base: baseContext(testConfig(dir), store), bodies: fake.bodies });
  const scheduler = new Scheduler({ runner, store, logger: silentLogger(), schedule, pollMs: 10, ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}) });
  opened.push({ store, runner, scheduler });
  return { dir, store, runner, scheduler, ...fake };
}

afterEach(async () => {
  for (const o of opened.splice(0)) {
    o.scheduler?.stop();
    await o.runner.stop(2_000);
    o.store.close();
  }
});

describe('scheduled fires', () => {
  it('skips a fire while the same job runs, records it as a skipped run, and runs the next one', async () => {
    const t = setup({ timezone: 'UTC' });
    const g = t.hold('sync');
    const first = await t.scheduler.fire('sync');
    expect(first.outcome).toBe('started');
    const second = await t.scheduler.fire('sync');
    expect(second.outcome).toBe('skipped');

    const runs = t.store.runs.list(10);
    expect(runs.map((r) => [r.kind, r.trigger, r.status])).toEqual([
      ['sync', 'schedule', 'skipped'],
      ['sync', 'schedule', 'running'],
    ]);
    expect(runs[0]?.error).toMatch(/holds the lock/);
    await waitFor(() => t.calls.length === 1 || undefined, 1_000, 'the job body to start');

    g.open();
    if (first.outcome !== 'started') throw new Error('unreachable');
    expect((await first.done).status).toBe('succeeded');
    const third = await t.scheduler.fire('sync');
    expect(third.outcome).toBe('started');
    if (third.outcome === 'started') await third.done;
    expect(t.store.runs.list(10).map((r) => r.status)).toEqual(['succeeded', 'skipped', 'succeeded']);
  });

  it('real cron ticks every second: a job longer than the interval gets its overlapping ticks skipped', async () => {
    const t = setup({ sync: '* * * * * *', timezone: 'UTC' });
    const g = t.hold('sync');
    t.scheduler.start();
    expect(t.scheduler.jobs()[0]?.next).not.toBeNull();
    await waitFor(() => t.store.runs.list(20).filter((r) => r.status === 'skipped').length >= 2 || undefined, 6_000, 'two skipped ticks');
    g.open();
    t.scheduler.stop();
    await waitFor(() => t.runner.running().length === 0 || undefined, 2_000, 'the run to finish');
    const runs = t.store.runs.list(20);
    expect(runs.every((r) => r.kind === 'sync' && r.trigger === 'schedule')).toBe(true);
    expect(runs.filter((r) => r.status === 'succeeded')).toHaveLength(1);
    expect(runs.filter((r) => r.status === 'skipped').length).toBeGreaterThanOrEqual(2);
    expect(t.calls).toHaveLength(1);
  });

  it('a fire for another job waits for the running one (one waiting fire at most), then runs', async () => {
    const t = setup({ timezone: 'UTC' });
    const g = t.hold('sync');
    const sync = await t.scheduler.fire('sync');
    expect(sync.outcome).toBe('started');
    const waiting = t.scheduler.fire('segment');
    await new Promise((r) => setTimeout(r, 50));
    // a second fire of the same job while the first waits: skipped, not queued
    expect((await t.scheduler.fire('segment')).outcome).toBe('skipped');
    expect(t.calls.map((c) => c.kind)).toEqual(['sync']);
    g.open();
    const seg = await waiting;
    expect(seg.outcome).toBe('started');
    if (seg.outcome === 'started') expect((await seg.done).status).toBe('succeeded');
    const runs = t.store.runs.list(10).map((r) => [r.kind, r.status]);
    expect(runs).toEqual([
      ['segment', 'succeeded'],
      ['segment', 'skipped'],
      ['sync', 'succeeded'],
    ]);
  });

  it('a waiting fire gives up after maxWaitMs and is recorded as skipped', async () => {
    const t = setup({ timezone: 'UTC' }, { maxWaitMs: 80 });
    const g = t.hold('sync');
    await t.scheduler.fire('sync');
    const r = await t.scheduler.fire('push');
    expect(r).toMatchObject({ outcome: 'skipped' });
    expect(t.store.runs.list(1)[0]).toMatchObject({ kind: 'push', trigger: 'schedule', status: 'skipped' });
    expect(t.store.runs.list(1)[0]?.error).toMatch(/waited/);
    g.open();
  });

  it('push: after-segment pushes when a scheduled segment run succeeds (not after a manual one)', async () => {
    const t = setup({ push: 'after-segment', timezone: 'UTC' });
    const manual = await t.runner.start('segment', 'manual', {});
    if (!manual.started) throw new Error('manual segment did not start');
    await manual.done;
    const seg = await t.scheduler.fire('segment');
    if (seg.outcome !== 'started') throw new Error('scheduled segment did not start');
    await seg.done;
    await waitFor(() => t.store.runs.list(1).find((r) => r.kind === 'push' && r.status === 'succeeded'), 2_000, 'the push after segment');
    expect(t.store.runs.list(10).map((r) => [r.kind, r.trigger, r.status])).toEqual([
      ['push', 'schedule', 'succeeded'],
      ['segment', 'schedule', 'succeeded'],
      ['segment', 'manual', 'succeeded'],
    ]);
  });

  it('stop() aborts the running job: it ends "interrupted" and nothing new starts', async () => {
    const t = setup({ timezone: 'UTC' });
    t.hold('sync');
    const r = await t.scheduler.fire('sync');
    if (r.outcome !== 'started') throw new Error('did not start');
    t.scheduler.stop();
    expect(await t.runner.stop(2_000)).toBe(true);
    expect((await r.done).status).toBe('interrupted');
    expect(t.calls[0]?.aborted).toBe(true);
    expect(t.store.runs.get(r.runId)?.status).toBe('interrupted');
    expect(await t.scheduler.fire('sync')).toEqual({ outcome: 'stopped' });
    expect((await t.runner.start('sync', 'manual', {})).started).toBe(false);
  });

  it('on start, a job whose latest run was interrupted runs again, in pipeline order', async () => {
    const t = setup({ timezone: 'UTC' });
    const now = new Date().toISOString();
    for (const kind of ['push', 'sync'] as const) {
      const id = t.store.runs.start(kind, 'schedule', now);
      t.store.runs.finish(id, 'interrupted', {}, null, now);
    }
    const segOk = t.store.runs.start('segment', 'manual', now);
    t.store.runs.finish(segOk, 'succeeded', {}, null, now);
    const ends = await t.scheduler.resumeInterrupted();
    expect(ends.map((e) => [e.kind, e.status])).toEqual([
      ['sync', 'succeeded'],
      ['push', 'succeeded'],
    ]);
  });
});

describe('the pipeline lease across processes', () => {
  it('the runner sees the lease withRun takes (same lease name)', async () => {
    const t = setup();
    const g = gate();
    const p = withRun({ ...baseContext(testConfig(t.dir), t.store), trigger: 'manual', signal: new AbortController().signal }, 'sync', async () => {
      await g.promise;
      return { result: null, counts: {} };
    });
    const h = t.runner.holder();
    expect(h).toMatchObject({ kind: 'sync', trigger: 'manual', ours: true });
    expect(t.store.serve.lease(PIPELINE_LEASE)?.runId).toBe(h?.runId);
    g.open();
    await p;
    expect(t.runner.holder()).toBeUndefined();
  });

  it('skips while another live process holds the lease; takes it over once that process is killed', async () => {
    const t = setup({ timezone: 'UTC' });
    const dbFile = join(t.dir, 'store.db');
    const dist = (p: string): string => pathToFileURL(join(ROOT, 'dist/src', p)).href;
    const script = `
      import { openStore } from ${JSON.stringify(dist('store/index.js'))};
      import { withRun } from ${JSON.stringify(dist('jobs/with-run.js'))};
      import { silentLogger } from ${JSON.stringify(dist('core/logger.js'))};
      const store = openStore(${JSON.stringify(dbFile)});
      setInterval(() => {}, 1000);
      withRun({ store, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, trigger: 'manual' }, 'sync', async (id) => {
        process.stdout.write('holding ' + id + '\\n');
        await new Promise(() => {});
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    try {
      const held = Number(await waitFor(() => /holding (\d+)/.exec(out)?.[1], 10_000, 'the child to take the lease'));
      expect(t.runner.holder()).toMatchObject({ runId: held, kind: 'sync', ours: false });

      const skipped = await t.scheduler.fire('sync');
      expect(skipped.outcome).toBe('skipped');
      expect(t.store.runs.list(1)[0]).toMatchObject({ kind: 'sync', trigger: 'schedule', status: 'skipped' });

      child.kill('SIGKILL');
      await exited;
      // the lease row is still there and not expired: only the dead pid frees it
      expect(t.store.serve.lease(PIPELINE_LEASE)?.expiresAt).toBeGreaterThan(Date.now());
      expect(t.runner.holder()).toBeUndefined();
      const ends = await t.scheduler.resumeInterrupted();
      expect(ends).toHaveLength(1);
      expect(ends[0]).toMatchObject({ kind: 'sync', status: 'succeeded' });
      expect(t.store.runs.get(held)?.status).toBe('interrupted');
      expect(t.store.serve.lease(PIPELINE_LEASE)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a lease of a holder on another host blocks until it expires', async () => {
    const t = setup({ timezone: 'UTC' });
    const now = new Date().toISOString();
    const foreign = t.store.runs.start('sync', 'schedule', now);
    const lease = t.store.runs.acquireLease(PIPELINE_LEASE, foreign, `not-${hostname()}:4242:abc`, 300, Date.now());
    expect(lease.ok).toBe(true);
    expect((await t.scheduler.fire('sync')).outcome).toBe('skipped');
    await new Promise((r) => setTimeout(r, 350));
    const r = await t.scheduler.fire('sync');
    expect(r.outcome).toBe('started');
    if (r.outcome === 'started') expect((await r.done).status).toBe('succeeded');
    // the expired holder's run no longer counts as running
    expect(t.store.runs.get(foreign)?.status).toBe('interrupted');
  });
});
