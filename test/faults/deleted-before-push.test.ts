/**
 * Fault scenario 6: one contact in each CRM is deleted after the sync read it
 * and before the push wrote it (while `segsync run`, the built CLI, pushes).
 * The run applies everything else exactly once, exits 0 with a warning line
 * naming each rejected record and the CRM's reason, and `segsync status` lists
 * them. The next run's sync removes both contacts: it pushes no membership
 * change, reports no rejection, and status has nothing left to show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Interceptor } from '../support/fake-http.js';
import { jsonOut, startCli, type Exit } from './support/cli.js';
import { endState, HS_FIRST_ID, membershipChanges, startWorld, type World } from './support/world.js';

// an HubSpot contact beyond the ones Salesforce shares (ids 100..119), and a Salesforce-only one
const HS_GONE = String(HS_FIRST_ID + 50);
const SF_GONE_EMAIL = 'c40@example.com';

interface Rejected {
  target: string;
  count: number;
  records: { op: string; externalId: string; error: string }[];
}

const cli = (w: World, ...args: string[]): Promise<Exit> => startCli([...args, '--config', w.configFile], { cwd: w.dir }).exit;

describe('a contact deleted in each CRM between sync and push', () => {
  let w: World;
  let sfGone: string;
  let first: Exit;
  let afterFirst: ReturnType<typeof membershipChanges>;

  beforeAll(async () => {
    // the archived pass runs on every sync, so the next run sees the HubSpot deletion at once
    w = await startWorld({ hubspot: ['archivedCheckInterval: 0s'] });
    sfGone = w.sf.live('Contact').find((c) => c.Email === SF_GONE_EMAIL)?.Id as string;
    expect(sfGone).toBeTruthy();
    let done = false;
    // the push starts with the HubSpot property (the sync never reads properties): both syncs are over by then
    const deleteAtPush: Interceptor = (r) => {
      if (!done && r.path.startsWith('/crm/v3/properties/')) {
        done = true;
        w.hs.archiveContact(HS_GONE);
        w.sf.delete(sfGone);
      }
      return undefined;
    };
    w.hs.interceptors.unshift(deleteAtPush);
    first = await cli(w, 'run');
    afterFirst = membershipChanges(w);
  }, 120_000);

  afterAll(async () => {
    await w.stop();
  });

  it('the run succeeds (exit 0) with a warning line and count naming each record and the reason', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^run: +#\d+ succeeded with a warning: 2 records rejected by the CRMs \(above\)$/m);
    expect(first.stdout).toContain('warning: hs rejected 1 record (deleted or unknown there); everything else was applied.');
    expect(first.stdout).toContain(`  rejected: add ${HS_GONE}: contact ${HS_GONE} does not exist in HubSpot (deleted or merged); the next sync removes it`);
    expect(first.stdout).toContain('warning: sf rejected 1 record (deleted or unknown there); everything else was applied.');
    expect(first.stdout).toMatch(new RegExp(`^  rejected: add ${sfGone}: contact ${sfGone} into campaign \\w+: ENTITY_IS_DELETED: entity is deleted`, 'm'));
    expect(first.stdout).toMatch(/^hs \(pushed\): \d+ adds, 0 removes, \d+ written, 0 failed, 1 rejected$/m);
  });

  it('everything else is applied exactly once, the deleted records not at all', () => {
    for (const [crm, changes, gone] of [
      ['hubspot', afterFirst.hubspot, HS_GONE],
      ['salesforce', afterFirst.salesforce, sfGone],
    ] as const) {
      expect([...changes.values()].every((c) => c.adds === 1 && c.removes === 0), crm).toBe(true);
      expect([...changes.keys()].some((k) => k.endsWith(`|${gone}`)), crm).toBe(false);
    }
    const state = endState(w, { contactStamps: false });
    // acknowledged: every contact of the store but the two deleted ones
    const live = state.store.contacts.length;
    expect(Object.keys(state.store.pushed)).toHaveLength(live - 2);
    expect(state.store.pushed[`hs:${HS_GONE}`]).toBeUndefined();
    expect(state.store.pushed[`sf:${sfGone}`]).toBeUndefined();
    expect(afterFirst.hubspot.size + afterFirst.salesforce.size).toBe(live - 2);
  });

  it('`segsync status` lists the rejected records with the reasons', async () => {
    const human = await cli(w, 'status');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('push to hs: 1 record rejected by the CRM (deleted or unknown there)');
    expect(human.stdout).toMatch(new RegExp(`run #\\d+ add ${HS_GONE}: contact ${HS_GONE} does not exist in HubSpot`));
    expect(human.stdout).toContain('push to sf: 1 record rejected by the CRM');
    const json = JSON.parse((await cli(w, '--json', 'status')).stdout) as { pushRejected: Rejected[] };
    expect(json.pushRejected.map((r) => [r.target, r.count, r.records.map((x) => [x.op, x.externalId])])).toEqual([
      ['hs', 1, [['add', HS_GONE]]],
      ['sf', 1, [['add', sfGone]]],
    ]);
    expect(json.pushRejected[1]?.records[0]?.error).toContain('ENTITY_IS_DELETED');
  });

  it('the next run removes both at its sync, pushes nothing for them and reports no rejection; status is clear', async () => {
    const next = await cli(w, '--json', 'run');
    expect(next.code, next.stderr).toBe(0);
    const out = jsonOut(next);
    expect(out?.status).toBe('succeeded');
    expect(out?.counts.sync).toMatchObject({ deleted: 2 });
    expect(out?.counts.push).toMatchObject({ adds: 0, removes: 0, written: 0, failed: 0, rejected: 0 });
    // and the one after, as a person reads it
    const human = await cli(w, 'run');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^run: +#\d+ succeeded$/m);
    expect(human.stdout).not.toContain('rejected');
    // no membership changed at either CRM
    expect(membershipChanges(w)).toEqual(afterFirst);
    const json = JSON.parse((await cli(w, '--json', 'status')).stdout) as { pushRejected: Rejected[] };
    expect(json.pushRejected).toEqual([]);
    expect((await cli(w, 'status')).stdout).not.toContain('rejected');
  }, 60_000);
});
