/**
 * `segsync serve` as a real process (the built CLI): SIGTERM mid-sync commits
 * the page, marks the run interrupted and exits 0 within 10 s; the next start
 * resumes from the checkpoint. A SIGKILLed serve leaves its lease behind; the
 * next start takes it over.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { demoProject, startServe, waitFor, type DemoProject, type ServeProcess } from './fixture.js';

interface RunRow {
  id: number;
  kind: string;
  trigger: string;
  status: string;
  counts: { read?: number };
}

function query<T>(project: DemoProject, sql: string): T[] {
  const db = new Database(join(project.dir, 'store.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Offset of the committed transactions checkpoint (0 before the first page). */
function txOffset(project: DemoProject): number {
  try {
    const r = query<{ offset: number | null }>(project, "SELECT json_extract(cursor, '$.offset') AS offset FROM sync_state WHERE stream = 'transactions'");
    return r[0]?.offset ?? 0;
  } catch {
    return 0;
  }
}

/** Transaction rows before the committed checkpoint (its `line` is the next line; line 1 is the header). */
function committedTransactions(project: DemoProject): number {
  const [r] = query<{ line: number }>(project, "SELECT json_extract(cursor, '$.line') AS line FROM sync_state WHERE stream = 'transactions'");
  return (r?.line ?? 2) - 2;
}

function runOf(project: DemoProject, id: number): RunRow {
  const r = query<RunRow & { counts: string }>(project, `SELECT id, kind, trigger, status, counts FROM runs WHERE id = ${id}`)[0];
  if (!r) throw new Error(`no run #${id}`);
  return { ...r, counts: JSON.parse(r.counts) as { read?: number } };
}

/** Every clean row of both files is in the store once, every dirty one in quarantine (per row, whatever the run). */
function expectComplete(project: DemoProject): void {
  const d = project.demo.dirtyByKind;
  const [c] = query<{ tx: number; qtx: number; qc: number; cursors: number }>(
    project,
    `SELECT (SELECT COUNT(*) FROM transactions) AS tx,
            (SELECT COUNT(DISTINCT location) FROM quarantine WHERE stream = 'transactions') AS qtx,
            (SELECT COUNT(DISTINCT location) FROM quarantine WHERE stream = 'contacts') AS qc,
            (SELECT COUNT(*) FROM sync_state WHERE json_extract(cursor, '$.done') = 1) AS cursors`,
  );
  const dirtyTx = d.bad_amount + d.bad_date + d.orphan_transaction;
  expect(c).toEqual({ tx: project.demo.transactions - dirtyTx, qtx: dirtyTx, qc: d.malformed_email + d.empty_id, cursors: 2 });
}

/** Starts a full sync through the API and returns its run id once a few transaction pages are committed. */
async function syncUntilMidway(s: ServeProcess, project: DemoProject): Promise<number> {
  const r = await s.api('/api/sync', { method: 'POST', body: { full: true } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const start = txOffset(project);
  await waitFor(() => {
    const o = txOffset(project);
    return (start === 0 ? o > 0 : o !== start && o > 0) || undefined;
  }, 15_000, 'a committed transactions page', 5);
  return r.body.runId as number;
}

describe('segsync serve (built CLI)', () => {
  it('SIGTERM mid-sync: page committed, run interrupted, exit 0 within 10 s; the next start resumes; a SIGKILLed holder is taken over', async () => {
    const project = await demoProject(1500, { pageSize: 100, extra: 'server: { token: "${SEGSYNC_ADMIN_TOKEN}" }\n' });
    const total = project.demo.contacts + project.demo.transactions;

    const s1 = await startServe(project.dir);
    expect((await s1.api('/api/status', { token: null })).status).toBe(401);
    expect((await s1.api('/api/status')).status).toBe(200);
    const first = await syncUntilMidway(s1, project);
    const t0 = Date.now();
    s1.child.kill('SIGTERM');
    const exit1 = await s1.exited;
    expect(exit1.code, s1.stderr()).toBe(0);
    expect(exit1.at - t0).toBeLessThan(10_000);
    expect(s1.stderr()).toMatch(new RegExp(`run #${first} \\(sync\\) stopped after its current page or batch`));
    expect(runOf(project, first).status).toBe('interrupted');
    expect(query(project, 'SELECT * FROM locks')).toEqual([]);
    // rows committed before the stop: every contact row and the transaction rows before the checkpoint
    const committed = project.demo.contacts + committedTransactions(project);
    expect(committed).toBeGreaterThan(project.demo.contacts);
    expect(committed).toBeLessThan(total);

    // restart: the interrupted sync runs again at once and reads only what was not committed
    const s2 = await startServe(project.dir);
    const resumed = await waitFor(() => query<RunRow>(project, `SELECT id, kind, trigger, status FROM runs WHERE id > ${first} AND kind = 'sync' AND status <> 'running'`)[0], 20_000, 'the resumed sync');
    expect(resumed).toMatchObject({ trigger: 'schedule', status: 'succeeded' });
    expect(runOf(project, resumed.id).counts.read).toBe(total - committed);
    expectComplete(project);

    // a serve killed outright leaves its lease; the next start sees the holder is gone and takes over
    const killedRun = await syncUntilMidway(s2, project);
    s2.child.kill('SIGKILL');
    await s2.exited;
    expect(runOf(project, killedRun).status).toBe('running');
    expect(query<{ run_id: number }>(project, 'SELECT run_id FROM locks')).toEqual([{ run_id: killedRun }]);
    const committedBeforeKill = committedTransactions(project);
    const s3 = await startServe(project.dir);
    try {
      const again = await waitFor(() => query<RunRow>(project, `SELECT id, status FROM runs WHERE id > ${killedRun} AND kind = 'sync' AND status <> 'running'`)[0], 20_000, 'the sync after the kill');
      expect(again.status).toBe('succeeded');
      // the full sync was cut short, so the next (incremental) one goes on from its checkpoint
      expect(runOf(project, again.id).counts.read).toBe(project.demo.transactions - committedBeforeKill);
      expect(runOf(project, killedRun).status).toBe('interrupted');
      expectComplete(project);
      const runs = (await s3.api('/api/runs')).body.items as { id: number; status: string }[];
      expect(runs.find((r) => r.id === killedRun)?.status).toBe('interrupted');
    } finally {
      s3.child.kill('SIGTERM');
      expect((await s3.exited).code).toBe(0);
    }
  }, 90_000);
});
