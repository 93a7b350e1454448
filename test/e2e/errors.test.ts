/** What a user sees when something is wrong: one clear message, the right exit code, nothing lost. */
import { describe, it, expect } from 'vitest';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempProject, writeCsvConfig } from './helpers.js';

describe('user errors through the CLI', () => {
  it('a config with three mistakes reports all three, with lines, and exits 2', () => {
    const dir = tempProject();
    writeFileSync(
      join(dir, 'segsync.yaml'),
      `store: ./s-\${SEGSYNC_TEST_UNSET_VAR}.db
connectors:
  - name: files
    type: csv
    contacts: ./c.csv
    transactions: ./t.csv
segmentaton:
  seed: 1
sync:
  pageSize: lots
`,
    );
    const r = cli(['status'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('config has 3 problems');
    expect(r.stderr).toMatch(/line 1: store: environment variable SEGSYNC_TEST_UNSET_VAR is not set/);
    expect(r.stderr).toMatch(/line 7: segmentaton: unknown key \(did you mean "segmentation"\?\)/);
    expect(r.stderr).toMatch(/line 10: sync\.pageSize: /);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('a missing config file says how to make one', () => {
    const dir = tempProject();
    const r = cli(['sync'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('segsync init');
  });

  it('a store file that is not SQLite fails with one line naming it', () => {
    const dir = tempProject();
    writeCsvConfig(dir);
    writeFileSync(join(dir, 'store.db'), 'this is a spreadsheet, not a database\n'.repeat(200));
    const r = cli(['status'], { cwd: dir });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('STORE_NOT_SEGSYNC');
    expect(lines[0]).toContain(join(dir, 'store.db'));
    // the file is left as it was
    expect(readFileSync(join(dir, 'store.db'), 'utf8').startsWith('this is a spreadsheet')).toBe(true);
  });

  it('a CSV with bad rows syncs the good ones and reports each bad one by line', () => {
    const dir = tempProject();
    writeCsvConfig(dir);
    mkdirSync(join(dir, 'data'));
    writeFileSync(
      join(dir, 'data/contacts.csv'),
      [
        'id,email,first_name,created_at',
        'c1,ann@example.com,Ann,2025-01-02',
        'c2,not-an-email,Bob,2025-01-02',
        ',carl@example.com,Carl,2025-01-02',
        'c4,dee@example.com,Dee,2025-02-30',
        'c5,eve@example.com,Eve,2025-03-01',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'data/transactions.csv'),
      [
        'id,contact_id,amount,currency,occurred_at,status',
        't1,c1,10.50,USD,2025-03-01T10:00:00Z,won',
        't2,c1,N/A,USD,2025-03-02T10:00:00Z,won',
        't3,c9,5,USD,2025-03-02T10:00:00Z,won',
        't4,c5,7,usd,2025-03-03,won',
      ].join('\n'),
    );
    const r = cli(['--json', 'sync'], { cwd: dir });
    expect(r.stderr).toContain('REJECTION_THRESHOLD'); // 5 of 9 bad is past the default 20%
    expect(r.code).toBe(1);
    const s = cli(['status'], { cwd: dir });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/contacts\.csv:3: bad email/);
    expect(s.stdout).toMatch(/contacts\.csv:4: missing id/);
    expect(s.stdout).toMatch(/contacts\.csv:5: bad date/);
    expect(s.stdout).toMatch(/transactions\.csv:3: bad amount/);
    expect(s.stdout).toMatch(/transactions\.csv:4: unknown contact: contact c9 not found/);
    const st = JSON.parse(cli(['--json', 'status'], { cwd: dir }).stdout) as { counts: { contacts: number; transactions: number } };
    expect(st.counts).toMatchObject({ contacts: 2, transactions: 2 });
  });

  it('init writes a config that loads, and refuses to overwrite it', () => {
    const dir = tempProject();
    const r = cli(['init'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'segsync.yaml'))).toBe(true);
    expect(existsSync(join(dir, '.env.example'))).toBe(true);
    const s = cli(['--json', 'status'], { cwd: dir });
    expect(s.code, s.stderr).toBe(0);
    const again = cli(['init'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
  });

  it('an unknown flag or command is a usage error (exit 2)', () => {
    const dir = tempProject();
    expect(cli(['sync', '--ful'], { cwd: dir }).code).toBe(2);
    expect(cli(['frobnicate'], { cwd: dir }).code).toBe(2);
  });

  it('push before any model says what to do', () => {
    const dir = tempProject();
    writeCsvConfig(dir);
    const r = cli(['push'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NO_MODEL');
    expect(r.stderr).toContain('segsync segment');
  });
});
