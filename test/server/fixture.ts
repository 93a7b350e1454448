/** Demo projects, in-process job contexts and `segsync serve` child processes for the serve tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateDemo, type GenerateDemoResult } from '../../src/demo/generate.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { defaultRegistry } from '../../src/connector/registry.js';
import { createRetryPolicy } from '../../src/connector/retry.js';
import { silentLogger } from '../../src/core/logger.js';
import { noProgress } from '../../src/core/progress.js';
import type { Store } from '../../src/store/index.js';
import type { BaseContext } from '../../src/server/views.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli.js');
export const TOKEN = 'test-admin-token-0123456789abcdef';

export interface DemoProject {
  dir: string;
  config: string;
  demo: GenerateDemoResult;
}

/** A temp project with demo CSV files in ./data and a segsync.yaml for them (plus `extra` YAML). */
export async function demoProject(customers: number, opts: { extra?: string; maxChurn?: number; pageSize?: number } = {}): Promise<DemoProject> {
  const dir = mkdtempSync(join(tmpdir(), 'segsync-serve-'));
  const demo = await generateDemo({ customers, outDir: join(dir, 'data'), seed: 7 });
  const config = join(dir, 'segsync.yaml');
  writeFileSync(
    config,
    `store: ./store.db
log: { level: info, file: ./segsync.log }
connectors:
  - name: files
    type: csv
    contacts: ./data/contacts.csv
    transactions: ./data/transactions.csv
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: { min: 3, max: 5 }, nInit: 2, silhouetteSample: 2000 }
sync: { pageSize: ${opts.pageSize ?? 5000} }
push:
  maxChurn: ${opts.maxChurn ?? 0.3}
  targets:
    - connector: files
      file: ./out/memberships.csv
${opts.extra ?? ''}`,
  );
  return { dir, config, demo };
}

export function projectConfig(file: string, env: Record<string, string | undefined> = {}): Config {
  return loadConfig(file, { registry: defaultRegistry, env });
}

/** Everything a job needs but trigger and signal, silent. */
export function baseContext(config: Config, store: Store): BaseContext {
  return {
    config,
    store,
    logger: silentLogger(),
    progress: noProgress,
    registry: defaultRegistry,
    retry: createRetryPolicy({ sleep: async () => {} }),
    now: () => new Date(),
  };
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  /** resolves with the exit code and when it happened */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  api(path: string, init?: { method?: string; body?: unknown; token?: string | null }): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Starts the built CLI's `serve` on a free loopback port in `dir`; resolves once it listens. */
export async function startServe(dir: string, opts: { env?: Record<string, string>; args?: string[] } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, CI: '1', SEGSYNC_ADMIN_TOKEN: TOKEN, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, at: Date.now() })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await waitFor(() => {
    if (gone) throw new Error(`segsync serve exited before listening:\n${err}`);
    return /on (http:\/\/\S+?)\/? \(pid/.exec(err)?.[1];
  }, 15_000, 'segsync serve to listen');
  return {
    child,
    url,
    stderr: () => err,
    exited,
    async api(path, init = {}) {
      const token = init.token === undefined ? TOKEN : init.token;
      const res = await fetch(url + path, {
        method: init.method ?? 'GET',
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
  };
}
