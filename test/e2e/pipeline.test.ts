/**
 * End to end through the built CLI on a small generated data set: sync, segment,
 * push; every customer with purchases in exactly one segment in the memberships
 * file; a second push writes nothing.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import Database from 'better-sqlite3';
import { cli, tempProject, writeCsvConfig } from './helpers.js';

describe('segsync pipeline (built CLI)', () => {
  const dir = tempProject();
  let generated: { contacts: number; transactions: number; dirtyRows: number };

  beforeAll(() => {
    writeCsvConfig(dir);
    const g = cli(['--json', 'demo', 'generate', '--customers', '1500', '--out', 'data', '--seed', '7'], { cwd: dir });
    expect(g.code, g.stderr).toBe(0);
    generated = JSON.parse(g.stdout) as typeof generated;
  });

  it('syncs the CSV files, quarantining the dirty rows', () => {
    const r = cli(['--json', 'sync'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runId: number; status: string; counts: { read: number; upserted: number; quarantined: number } };
    expect(out.status).toBe('succeeded');
    expect(out.counts.read).toBe(generated.contacts + generated.transactions);
    expect(out.counts.quarantined).toBeGreaterThan(0);
    expect(out.counts.upserted + out.counts.quarantined).toBe(out.counts.read);
  });

  it('a second sync of unchanged files reads nothing', () => {
    const r = cli(['--json', 'sync'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { counts: { read: number } }).counts.read).toBe(0);
  });

  it('segments the customers and names the segments uniquely', () => {
    const r = cli(['--json', 'segment'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { counts: { k: number; segments: number; customers: number } };
    expect(out.counts.k).toBeGreaterThanOrEqual(3);
    expect(out.counts.k).toBeLessThanOrEqual(5);
    const s = cli(['--json', 'segments'], { cwd: dir });
    expect(s.code, s.stderr).toBe(0);
    const segs = JSON.parse(s.stdout) as { id: string; name: string; size: number }[];
    expect(segs.length).toBe(out.counts.segments);
    expect(new Set(segs.map((x) => x.name)).size).toBe(segs.length);
    expect(segs.reduce((a, x) => a + x.size, 0)).toBe(out.counts.customers);
  });

  it('pushes every customer with purchases into exactly one segment, and a second push writes nothing', () => {
    const dry = cli(['--json', 'push', '--dry-run'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(existsSync(join(dir, 'out/memberships.csv'))).toBe(false);
    const planned = (JSON.parse(dry.stdout) as { counts: { adds: number; written: number } }).counts;
    expect(planned.adds).toBeGreaterThan(0);
    expect(planned.written).toBe(0);

    const r = cli(['--json', 'push'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const c = (JSON.parse(r.stdout) as { counts: { adds: number; written: number; failed: number } }).counts;
    expect(c.adds).toBe(planned.adds);
    expect(c.written).toBe(c.adds);
    expect(c.failed).toBe(0);

    const file = join(dir, 'out/memberships.csv');
    const rows = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual(['customer_id', 'external_id', 'email', 'segment_id', 'segment_name']);
    const segOf = new Map<string, Set<string>>();
    for (const row of rows) {
      const set = segOf.get(row.customer_id as string) ?? new Set<string>();
      set.add(row.segment_id as string);
      segOf.set(row.customer_id as string, set);
    }
    for (const [, set] of segOf) expect(set.size).toBe(1);

    // every customer with a won purchase in the store appears, in exactly one clustered segment
    const db = new Database(join(dir, 'store.db'), { readonly: true });
    const buyers = db
      .prepare(
        `SELECT DISTINCT c.customer_id FROM transactions t JOIN contacts c ON c.id = t.contact_id
          WHERE t.status = 'won' AND t.deleted_at IS NULL AND c.deleted_at IS NULL`,
      )
      .pluck()
      .all() as string[];
    db.close();
    expect(buyers.length).toBeGreaterThan(1000);
    for (const b of buyers) {
      const set = segOf.get(b);
      expect(set?.size, b).toBe(1);
      expect([...(set ?? [])][0]).not.toBe('seg_no_purchases');
    }

    const mtime = statSync(file).mtimeMs;
    const again = cli(['--json', 'push'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    const c2 = (JSON.parse(again.stdout) as { counts: { adds: number; removes: number; written: number } }).counts;
    expect(c2).toMatchObject({ adds: 0, removes: 0, written: 0 });
    expect(statSync(file).mtimeMs).toBe(mtime);
    const human = cli(['push'], { cwd: dir });
    expect(human.stdout).toContain('no changes, nothing written');
  });

  it('exports memberships with the documented columns', () => {
    const r = cli(['export', 'memberships', '--format', 'csv'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual(['customer_id', 'connector', 'external_id', 'email', 'segment_id', 'segment_name']);
    expect(rows.every((x) => x.connector === 'files')).toBe(true);
    const j = cli(['export', 'memberships', '--format', 'json'], { cwd: dir });
    expect((JSON.parse(j.stdout) as unknown[]).length).toBe(rows.length);
  });

  it('status and runs report what happened', () => {
    const s = cli(['--json', 'status'], { cwd: dir });
    expect(s.code, s.stderr).toBe(0);
    const st = JSON.parse(s.stdout) as { counts: { customers: number; quarantined: number }; quarantine: { reason: string; count: number }[] };
    expect(st.counts.customers).toBeGreaterThan(1000);
    const reasons = st.quarantine.map((q) => q.reason);
    expect(reasons).toEqual(expect.arrayContaining(['bad email', 'bad amount', 'bad date']));
    const runs = cli(['--json', 'runs'], { cwd: dir });
    const list = JSON.parse(runs.stdout) as { kind: string; status: string }[];
    expect(list.filter((x) => x.kind === 'push' && x.status === 'succeeded').length).toBeGreaterThanOrEqual(2);
  });
});
