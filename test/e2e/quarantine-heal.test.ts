/**
 * A CSV transaction quarantined because its contact was not in contacts.csv yet leaves
 * `segsync status` once a later sync stores it, also when only contacts.csv changed; a row
 * that still fails stays listed, once.
 */
import { describe, it, expect } from 'vitest';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempProject, writeCsvConfig } from './helpers.js';

interface Status {
  counts: { transactions: number; quarantined: number };
  quarantine: { connector: string; stream: string; reason: string; count: number }[];
}

const status = (dir: string): Status => {
  const r = cli(['--json', 'status'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
};

describe('quarantine after the contact arrives (CSV, through the CLI)', () => {
  it('a transaction stored on a later sync is no longer listed; one that still fails is', () => {
    const dir = tempProject();
    writeCsvConfig(dir, 'sync: { maxRejectedShare: 0.9 }\n');
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/contacts.csv'), 'id,email,created_at\nc1,ann@example.com,2025-01-02\n');
    writeFileSync(
      join(dir, 'data/transactions.csv'),
      [
        'id,contact_id,amount,currency,occurred_at,status',
        't1,c1,10.50,USD,2025-03-01T10:00:00Z,won',
        't2,c2,20,USD,2025-03-02T10:00:00Z,won',
        't3,c1,N/A,USD,2025-03-02T10:00:00Z,won',
        '',
      ].join('\n'),
    );
    const first = cli(['sync'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(status(dir).quarantine.map((q) => [q.stream, q.reason])).toEqual(
      expect.arrayContaining([
        ['transactions', 'unknown contact'],
        ['transactions', 'bad amount'],
      ]),
    );
    expect(cli(['status'], { cwd: dir }).stdout).toMatch(/transactions\.csv:3: unknown contact: contact c2 not found/);

    // the next export has the contact, and the transactions file changed too (so it is read again)
    appendFileSync(join(dir, 'data/contacts.csv'), 'c2,bob@example.com,2025-01-03\n');
    appendFileSync(join(dir, 'data/transactions.csv'), 't4,c2,5,USD,2025-03-04T10:00:00Z,won\n');
    const second = cli(['sync'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);

    const st = status(dir);
    expect(st.counts.transactions).toBe(3);
    // t3 was read again with the changed file and failed again: listed once, not once per read
    expect(st.quarantine.map((q) => [q.stream, q.reason, q.count])).toEqual([['transactions', 'bad amount', 1]]);
    expect(st.counts.quarantined).toBe(1);
    const human = cli(['status'], { cwd: dir }).stdout;
    expect(human).not.toContain('unknown contact');
    expect(human).toMatch(/transactions\.csv:4: bad amount/);

    // a purchase whose contact comes only in a later contacts export: the transactions file
    // does not change again, yet the sync that brings the contact stores the purchase
    appendFileSync(join(dir, 'data/transactions.csv'), 't5,c9,7,USD,2025-03-05T10:00:00Z,won\n');
    expect(cli(['sync'], { cwd: dir }).code).toBe(0);
    expect(status(dir).counts.transactions).toBe(3);
    appendFileSync(join(dir, 'data/contacts.csv'), 'c9,cy@example.com,2025-01-04\n');
    expect(cli(['sync'], { cwd: dir }).code).toBe(0);
    const last = status(dir);
    expect(last.counts.transactions).toBe(4);
    expect(last.quarantine.map((q) => [q.stream, q.reason, q.count])).toEqual([['transactions', 'bad amount', 1]]);
  }, 60_000);
});
