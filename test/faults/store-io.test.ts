/**
 * Fault scenario 5: the store cannot be written.
 * - Disk full, simulated with SQLite's max_page_count (the store may not grow
 *   past a few pages more than it has; SQLite then fails writes with
 *   SQLITE_FULL exactly as on a full disk): the run stops with one clear error,
 *   the store passes its integrity check and holds whole pages only, and once
 *   there is room again the next run ends where a clean run ends.
 * - A read-only store file (chmod 0444; when the tests run as root, who may
 *   write anyway, the CLI runs as nobody): one clear error line, exit code 1,
 *   the file not changed by a single byte; writable again, the next run works.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jsonOut, startCli } from './support/cli.js';
import { endState, fakeClock, openSession, runPipeline, runs, startWorld, type World } from './support/world.js';

const worlds: World[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  for (const w of worlds.splice(0)) await w.stop();
});

async function world(): Promise<World> {
  const w = await startWorld();
  worlds.push(w);
  return w;
}

/** Every connection to `file` opened from now on may grow the database by `pages` pages at most. */
function limitGrowth(file: string, pages: number): void {
  const limited = new WeakSet<Database.Database>();
  const pragma = Database.prototype.pragma;
  vi.spyOn(Database.prototype, 'pragma').mockImplementation(function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
    const out: unknown = pragma.call(this, source, options);
    if (this.name === file && !limited.has(this)) {
      limited.add(this);
      const now = pragma.call(this, 'page_count', { simple: true }) as number;
      pragma.call(this, `max_page_count = ${now + pages}`);
    }
    return out;
  });
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('a store that cannot be written', () => {
  it('disk full (max_page_count) mid-sync: a clear error, a consistent store, and the next run catches up', async () => {
    fakeClock(9);
    const clean = await world();
    const a = openSession(clean, fakeClock(9).retry);
    expect((await runPipeline(a)).status).toBe('succeeded');
    a.close();
    const want = endState(clean);

    fakeClock(9);
    const w = await world();
    const file = join(w.dir, 'store.db');
    const { retry } = fakeClock(9);
    // the schema is in place, then the "disk" has room for a few pages only
    openSession(w, retry).close();
    limitGrowth(file, 12);
    const s = openSession(w, retry);
    const full = await runPipeline(s);
    s.close();
    expect(full.code).toBe('STORE_IO');
    expect(full.error).toBe(`STORE_IO: ${file}: cannot write the store (SQLITE_FULL) — free disk space, then run again`);
    vi.restoreAllMocks();

    expect(integrity(file)).toBe('ok');
    // whole pages only: each committed page came with its checkpoint, nothing after the failing one
    const part = endState(w);
    expect(part.store.contacts.length).toBeGreaterThan(0);
    expect(part.store.contacts.length).toBeLessThan(want.store.contacts.length);
    const db = new Database(file, { readonly: true });
    const cursors = db.prepare('SELECT connector, stream FROM sync_state').raw().all();
    db.close();
    expect(cursors.length).toBeGreaterThan(0);

    // room again: the next run resumes and ends where a clean run ends
    const t = openSession(w, retry);
    const again = await runPipeline(t);
    t.close();
    expect(again.status, again.error).toBe('succeeded');
    expect(endState(w)).toEqual(want);
    // the failed run was recorded as such (updating its row needed no new page)
    expect(runs(file).map((r) => [r.status, r.error])).toEqual([
      ['failed', full.error],
      ['succeeded', null],
    ]);
  }, 120_000);

  it('a read-only store file: one clear error line, the file untouched; writable again, the next run works', async (ctx) => {
    const w = await world();
    const file = join(w.dir, 'store.db');
    const first = await startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir }).exit;
    expect(first.code, first.stderr).toBe(0);
    const want = endState(w, { contactStamps: false });
    for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) rmSync(f);
    const before = createHash('sha256').update(readFileSync(file)).digest('hex');

    chmodSync(file, 0o444);
    // root writes to read-only files anyway: then the CLI runs as nobody, in a directory it may enter
    const root = process.getuid?.() === 0;
    if (root) {
      chmodSync(w.dir, 0o777);
      chmodSync(join(w.dir, 'segsync.log'), 0o666);
      const probe = await startCli(['--version'], { cwd: w.dir, as: 65534 }).exit;
      if (probe.code !== 0) ctx.skip(`running as root and user nobody cannot run the CLI here: ${probe.stderr.trim()}`);
    }
    const refused = await startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir, ...(root ? { as: 65534 } : {}) }).exit;
    expect(refused.code, refused.stderr).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: STORE_IO: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write the store \\(SQLITE_(READONLY|CANTOPEN)\\w*\\) — check the file and directory permissions and free space$`));
    expect(jsonOut(refused)).toBeUndefined();
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(before);
    expect(integrity(file)).toBe('ok');

    chmodSync(file, 0o644);
    for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) rmSync(f);
    const again = await startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir }).exit;
    expect(again.code, again.stderr).toBe(0);
    expect(jsonOut(again)?.counts.push).toMatchObject({ adds: 0, removes: 0, failed: 0 });
    expect(endState(w, { contactStamps: false })).toEqual(want);
  }, 120_000);
});
