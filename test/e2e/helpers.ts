/** Running the built CLI in a temp project directory. */
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { cwd: string; env?: Record<string, string> }): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, CI: '1', ...opts.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], opts: { cwd: string }): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tempProject(prefix = 'segsync-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config for CSV files in `dir`/data with the memberships file next to them. */
export function writeCsvConfig(dir: string, extra = ''): string {
  const file = join(dir, 'segsync.yaml');
  writeFileSync(
    file,
    `store: ./store.db
log: { level: info, file: ./segsync.log }
connectors:
  - name: files
    type: csv
    contacts: ./data/contacts.csv
    transactions: ./data/transactions.csv
features:
  preset: rfm
  asOf: 2026-06-30
segmentation:
  k: { min: 3, max: 5 }
  nInit: 2
  silhouetteSample: 2000
push:
  targets:
    - connector: files
      file: ./out/memberships.csv
${extra}`,
  );
  return file;
}
