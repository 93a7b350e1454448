/**
 * Validating a config loads connector specs (config.ts) only; a connector's
 * implementation, and the CRM SDK it imports, load when a job runs it. jsforce
 * alone costs about 0.3 s of every CLI start otherwise.
 *
 * The process-level checks drive the built code (dist/, built by `npm test` or
 * the global setup) in child processes: this process has loaded the SDKs through
 * other tests' imports, and a child sees only what its own start-up loaded.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import csv from '../../connectors/csv/index.js';
import { csvSpec } from '../../connectors/csv/config.js';
import { defineConnector, type AnyConnector } from '../../src/connector/contract.js';
import { createRegistry, lazy } from '../../src/connector/registry.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const PROBE = join(FIXTURES, 'sdk-probe.mjs');

describe('registry', () => {
  it('gives specs without loading, and loads an implementation once, on first use', async () => {
    let loads = 0;
    const registry = createRegistry([
      lazy(csvSpec, async () => {
        loads += 1;
        return { default: csv };
      }),
    ]);
    expect(registry.spec('csv')?.configSchema).toBe(csvSpec.configSchema);
    expect(registry.types()).toEqual(['csv']);
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([registry.load('csv'), registry.load('csv')]);
    expect(a).toBe(csv);
    expect(b).toBe(csv);
    expect(loads).toBe(1);
  });

  it('rejects an implementation whose schemas are not its spec\'s (the config was validated with the spec)', async () => {
    const own: AnyConnector = { ...csv, configSchema: z.unknown() };
    const registry = createRegistry([lazy(csvSpec, async () => ({ default: own }))]);
    await expect(registry.load('csv')).rejects.toThrow(/does not match its spec in config\.ts \(configSchema\)/);
  });

  it('rejects an unknown type', async () => {
    await expect(createRegistry([csv]).load('nosuch')).rejects.toThrow(/unknown connector type nosuch/);
  });

  it('a writer comes with a target schema, and only with one', () => {
    const base = { type: 'x', configSchema: csvSpec.configSchema, check: csv.check, streams: csv.streams };
    expect(() => defineConnector({ ...base, writer: csv.writer })).toThrow(/targetSchema and writer together/);
    expect(() => defineConnector({ ...base, targetSchema: csvSpec.targetSchema })).toThrow(/targetSchema and writer together/);
    expect(defineConnector(base).type).toBe('x');
  });
});

describe('CRM SDKs load only when their connector runs (built CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'segsync-lazy-sdk-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/contacts.csv'), 'id,email,created_at,updated_at\nc1,a@example.com,2026-01-01,2026-01-01\n');
    writeFileSync(join(dir, 'data/transactions.csv'), 'id,contact_id,amount,currency,occurred_at,status\nt1,c1,10,USD,2026-01-02,won\n');
    const csvEntry = `  - name: files
    type: csv
    contacts: ./data/contacts.csv
    transactions: ./data/transactions.csv
`;
    const push = `push:
  targets:
    - connector: files
      file: ./out/memberships.csv
`;
    writeFileSync(join(dir, 'csv.yaml'), `store: ./store.db\nlog: { file: ./segsync.log }\nconnectors:\n${csvEntry}${push}`);
    writeFileSync(
      join(dir, 'all.yaml'),
      `store: ./store.db
log: { file: ./segsync.log }
connectors:
${csvEntry}  - name: hs
    type: hubspot
    accessToken: \${HUBSPOT_ACCESS_TOKEN}
  - name: sf
    type: salesforce
    instanceUrl: https://acme.my.salesforce.com
    accessToken: \${SALESFORCE_TOKEN}
${push}    - connector: hs
    - connector: sf
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the CLI with the probe preloaded; returns its exit code, stdout and the SDKs it loaded. */
  function cli(args: string[]): { code: number | null; stdout: string; sdks: string[] } {
    const out = join(dir, `probe-${args.join('-').replace(/\W+/g, '_')}.json`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(PROBE).href, join(DIST, 'src/cli.js'), ...args], {
      cwd: dir,
      env: { ...process.env, CI: '1', SDK_PROBE_OUT: out },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: `${r.stdout}${r.stderr}`, sdks: JSON.parse(readFileSync(out, 'utf8')) as string[] };
  }

  it('`check` on a CSV-only config runs the CSV connector and loads neither SDK', () => {
    const r = cli(['check', '--config', 'csv.yaml']);
    expect(r.stdout).toMatch(/ok\s+files\s+contacts file/);
    expect(r.code).toBe(0);
    expect(r.sdks).toEqual([]);
  });

  it('`status` and `--help` load neither SDK', () => {
    expect(cli(['--help']).sdks).toEqual([]);
    const status = cli(['status', '--config', 'csv.yaml']);
    expect(status.code).toBe(0);
    expect(status.sdks).toEqual([]);
  });

  it('validating a config with every connector type loads no SDK; loading a connector loads its own', () => {
    const r = spawnSync(process.execPath, [join(FIXTURES, 'validate-then-load.mjs'), DIST, join(dir, 'all.yaml')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      validated: { connectors: ['csv', 'hubspot', 'salesforce'], sdks: [] },
      'load csv': { hasWriter: true, sdks: [] },
      // the probe sees an SDK once one loads: the empty lists above are not blind
      'load hubspot': { hasWriter: true, sdks: ['@hubspot/api-client'] },
      'load salesforce': { hasWriter: true, sdks: ['@hubspot/api-client', 'jsforce'] },
    });
  });
});
