/**
 * The Salesforce short poll against the loopback fake org: a tick syncs
 * incrementally on SystemModstamp, and only the customers it touched are
 * assigned with the active model and pushed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import salesforce from '../../connectors/salesforce/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { noProgress } from '../../src/core/progress.js';
import { runPush } from '../../src/push/engine.js';
import { Poller, type PollTarget } from '../../src/realtime/poller.js';
import { JobRunner } from '../../src/schedule/runner.js';
import { runSegmentation } from '../../src/segment/run.js';
import { customerIdFor, identityKey } from '../../src/store/ids.js';
import { FakeOrg } from '../connectors/salesforce/fake-org.js';
import { fastRetry, harness, registry, seedCustomers, seedWon, sfEntry, type Harness } from '../connectors/salesforce/helpers.js';

let org: FakeOrg;
let runner: JobRunner | undefined;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await runner?.stop(5_000);
  runner = undefined;
  await org.stop();
});

const AS_OF = Date.parse('2026-06-30T00:00:00Z');
const DAY = 86_400_000;

async function trained(): Promise<{ h: Harness; ids: string[]; poller: Poller; target: PollTarget }> {
  const contacts = seedCustomers(org, 60, 3);
  const h = harness(org, { extra: 'realtime:\n  poll:\n    - { connector: sf, every: 30s }' });
  expect(h.config.realtime?.poll).toEqual([{ connector: 'sf', every: 30_000 }]);
  await h.sync({ full: true });
  const at = new Date().toISOString();
  runSegmentation(h.job(), { runId: h.store.runs.start('segment', 'manual', at), algorithm: 'kmeans', k: 3 });
  await runPush(h.job(), { runId: h.store.runs.start('push', 'manual', at), dryRun: false, approve: true, signal: new AbortController().signal });
  runner = new JobRunner({
    base: { config: h.config, store: h.store, logger: silentLogger(), progress: noProgress, registry, retry: fastRetry(), now: () => new Date('2026-07-01T00:00:00Z') },
  });
  const target: PollTarget = { conn: sfEntry(h.config), connector: salesforce, everyMs: 30_000 };
  const poller = new Poller({ runner, store: h.store, logger: silentLogger(), targets: [target] });
  return { h, ids: contacts.map((c) => c.Id as string), poller, target };
}

const customer = (i: number): string => customerIdFor(identityKey('', `c${i}@example.com`));

describe('short poll (Salesforce)', () => {
  it('assigns a contact whose purchases changed to its new segment and pushes only that contact', async () => {
    const { h, ids, poller, target } = await trained();
    const model = h.store.models.activeModel();
    const before = h.store.models.memberships(model?.id ?? 0);
    const pushedBefore = h.store.push.pushed('sf');
    // the first poll reads back the segment field the push wrote (SystemModstamp moved): nobody moves, no run stays
    const runs0 = h.store.runs.list(100).length;
    const echo = await poller.tick(target);
    if (echo.outcome !== 'started') throw new Error('echo poll did not start');
    expect((await echo.done).result).toMatchObject({ read: 63, moved: 0 });
    expect(h.store.runs.list(100)).toHaveLength(runs0);
    const frequent = before.get(customer(0));
    const oneOff = before.get(customer(2));
    expect(frequent).toBeDefined();
    expect(oneOff).not.toBe(frequent);

    // contact 2, a one-off buyer, starts buying often and recently
    for (let j = 0; j < 14; j++) seedWon(org, ids[2] as string, 50, new Date(AS_OF - (3 + j * 15) * DAY).toISOString().slice(0, 10));
    const tick = await poller.tick(target);
    if (tick.outcome !== 'started') throw new Error(`poll did not start: ${tick.reason}`);
    const end = await tick.done;
    expect(end).toMatchObject({ kind: 'realtime', trigger: 'schedule', status: 'succeeded' });

    const after = h.store.models.memberships(model?.id ?? 0);
    expect(after.get(customer(2))).toBe(frequent);
    for (const [c, s] of before) if (c !== customer(2)) expect(after.get(c), c).toBe(s);
    const run = h.store.runs.get(end.runId);
    expect(run?.counts).toMatchObject({ source: 'sf', read: 14, customers: 1, moved: 1, push: { adds: 1, removes: 1, written: 2, failed: 0 } });
    // the pushed state changed for that contact alone
    const pushedAfter = h.store.push.pushed('sf');
    const changed = [...pushedAfter].filter(([ext, p]) => pushedBefore.get(ext)?.segmentId !== p.segmentId).map(([ext]) => ext);
    expect(changed).toEqual([ids[2]]);

    // nothing changed since but the pushed field: nobody moves and the poll leaves no run behind
    const runs = h.store.runs.list(100).length;
    const idle = await poller.tick(target);
    if (idle.outcome !== 'started') throw new Error('idle poll did not start');
    expect(await idle.done).toMatchObject({ status: 'succeeded', result: { read: 1, moved: 0 } });
    expect(h.store.runs.list(100)).toHaveLength(runs);
  });

  it('skips a tick while another job holds the lease, recording nothing', async () => {
    const { h, poller, target } = await trained();
    const runId = h.store.runs.start('sync', 'manual', new Date().toISOString());
    const lease = h.store.runs.acquireLease('pipeline', runId, `other-host:1:x`, 60_000, Date.now());
    expect(lease.ok).toBe(true);
    const runs = h.store.runs.list(100).length;
    const tick = await poller.tick(target);
    expect(tick).toMatchObject({ outcome: 'skipped' });
    expect(h.store.runs.list(100)).toHaveLength(runs);
  });
});
