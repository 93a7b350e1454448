import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { defaultRegistry, createRegistry } from '../../src/connector/registry.js';
import { defineConnector } from '../../src/connector/contract.js';
import { ConfigError, ExitCode, UserError } from '../../src/core/errors.js';
import csv from '../../connectors/csv/index.js';

const FILE = '/srv/project/conf/segsync.yaml';

function parse(text: string, env: Record<string, string | undefined> = {}) {
  return parseConfig(text, FILE, { registry: defaultRegistry, env });
}

/** The ConfigError parseConfig throws for `text`. */
function problemsOf(text: string, env: Record<string, string | undefined> = {}, registry = defaultRegistry): ConfigError {
  try {
    parseConfig(text, FILE, { registry, env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected parseConfig to throw');
}

const MINIMAL = `connectors:
  - name: files
    type: csv
    contacts: ./data/contacts.csv
`;

/** A connector type that takes a token, to check secret handling. */
const fakeCrm = defineConnector({
  type: 'fakecrm',
  configSchema: z.strictObject({
    name: z.string(),
    type: z.literal('fakecrm'),
    accessToken: z.string().min(1),
    baseUrl: z.string().default('https://api.example.com'),
  }),
  check: async () => ({ lines: [] }),
  streams: csv.streams as never,
});
const withFake = createRegistry([csv, fakeCrm]);

describe('parseConfig: a valid config', () => {
  it('parses a minimal config with defaults applied', () => {
    const c = parse(MINIMAL);
    expect(c.connectors).toHaveLength(1);
    expect(c.connectors[0]).toMatchObject({ name: 'files', type: 'csv' });
    expect(c.connectors[0]?.settings).toMatchObject({ contacts: './data/contacts.csv', delimiter: ',', defaultCurrency: 'USD' });
    expect(c.sync.pageSize).toBeUndefined(); // each stream has its own default
    expect(c.sync.maxRejectedShare).toBeGreaterThan(0);
    expect(c.segmentation.k).toEqual({ min: 3, max: 8 });
    expect(c.segmentation.algorithm).toBe('auto');
    expect(c.features.preset).toBe('rfm');
    expect(c.push.targets).toEqual([]);
    expect(c.push.maxChurn).toBe(0.3);
    expect(c.log.level).toBe('info');
    expect(c.secrets).toEqual([]);
  });

  it('resolves relative paths against the config file directory', () => {
    const c = parse(`store: ./state/s.db
log: { file: ../logs/segsync.log }
demo: { dir: demo-data }
${MINIMAL}`);
    expect(c.file).toBe(FILE);
    expect(c.baseDir).toBe('/srv/project/conf');
    expect(c.store).toBe('/srv/project/conf/state/s.db');
    expect(c.log.file).toBe('/srv/project/logs/segsync.log');
    expect(c.demo?.dir).toBe('/srv/project/conf/demo-data');
  });

  it('resolves the default store path against the config dir too, and keeps absolute paths', () => {
    expect(parse(MINIMAL).store).toBe('/srv/project/conf/data/segsync.db');
    expect(parse(`store: /var/lib/segsync.db\n${MINIMAL}`).store).toBe('/var/lib/segsync.db');
  });

  it('keeps values that are given', () => {
    const c = parse(`${MINIMAL}sync: { pageSize: 250 }
segmentation: { k: 5, seed: 7 }
push:
  maxChurn: 0.5
  targets:
    - connector: files
      file: out.csv
`);
    expect(c.sync.pageSize).toBe(250);
    expect(c.segmentation.k).toBe(5);
    expect(c.segmentation.seed).toBe(7);
    expect(c.push.maxChurn).toBe(0.5);
    expect(c.push.targets).toEqual([{ connector: 'files', file: 'out.csv' }]);
  });

  it('parses the shipped demo config', () => {
    const c = loadConfig(new URL('../../config/demo.yaml', import.meta.url).pathname, { registry: defaultRegistry, env: {} });
    expect(c.connectors.map((x) => x.name)).toEqual(['files']);
    expect(c.features.asOf).toBe('2026-06-30');
  });
});

describe('parseConfig: environment interpolation', () => {
  it('substitutes ${VAR} and ${VAR:-default}', () => {
    const c = parse(
      `store: \${STORE_DIR}/s.db
log: { file: "\${LOG_DIR:-logs}/x.log", level: "\${LEVEL:-warn}" }
${MINIMAL}`,
      { STORE_DIR: '/data' },
    );
    expect(c.store).toBe('/data/s.db');
    expect(c.log.file).toBe('/srv/project/conf/logs/x.log');
    expect(c.log.level).toBe('warn');
  });

  it('prefers the environment over the default, and treats empty as unset', () => {
    expect(parse(`log: { level: "\${LEVEL:-warn}" }\n${MINIMAL}`, { LEVEL: 'debug' }).log.level).toBe('debug');
    expect(parse(`log: { level: "\${LEVEL:-warn}" }\n${MINIMAL}`, { LEVEL: '' }).log.level).toBe('warn');
  });

  it('reports a missing variable with its line', () => {
    const e = problemsOf(`log: { level: info }\nstore: \${NOPE}\n${MINIMAL}`);
    const p = e.problems.filter((x) => x.includes('NOPE'));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^line 2: store: environment variable NOPE is not set/);
  });

  // BUG (src/config/load.ts interpolate): the missing variable is replaced by "" and the schema
  // then reports a second, misleading problem for the same key ("Too small: expected string
  // to have >=1 characters").
  it('reports a missing variable once, without a follow-on schema problem', () => {
    const e = problemsOf(`store: \${NOPE}\n${MINIMAL}`);
    expect(e.problems).toHaveLength(1);
  });

  it('collects interpolated secret values into config.secrets', () => {
    const c = parseConfig(
      `connectors:
  - name: crm
    type: fakecrm
    accessToken: \${CRM_TOKEN}
`,
      FILE,
      { registry: withFake, env: { CRM_TOKEN: 'tok-SECRET-123456' } },
    );
    expect(c.secrets).toContain('tok-SECRET-123456');
    expect(c.connectors[0]?.settings).toMatchObject({ accessToken: 'tok-SECRET-123456', baseUrl: 'https://api.example.com' });
  });

  it('treats a literal token written in the file as a secret too', () => {
    const c = parseConfig(
      `connectors:
  - name: crm
    type: fakecrm
    accessToken: literal-token-abcdef
`,
      FILE,
      { registry: withFake, env: {} },
    );
    expect(c.secrets).toContain('literal-token-abcdef');
  });

  it('does not treat non-secret values as secrets', () => {
    const c = parseConfig(
      `connectors:
  - name: crm
    type: fakecrm
    accessToken: \${CRM_TOKEN}
    baseUrl: https://proxy.internal.example
`,
      FILE,
      { registry: withFake, env: { CRM_TOKEN: 'tok-SECRET-123456' } },
    );
    expect(c.secrets).not.toContain('https://proxy.internal.example');
    expect(c.secrets).not.toContain('crm');
  });
});

describe('parseConfig: errors', () => {
  const THREE = `store: \${NOPE}
connectors:
  - name: files
    type: csv
    contacts: ./c.csv
sync:
  pageSize: big
segmentaton: { k: 3 }
`;

  it('reports every problem at once, each with its line', () => {
    const e = problemsOf(THREE);
    expect(e).toBeInstanceOf(UserError);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(ExitCode.usage);
    // three mistakes; the missing variable also yields a follow-on "store: Too small" (see the bug below)
    expect(e.problems.length).toBeGreaterThanOrEqual(3);
    const env = e.problems.find((p) => p.includes('NOPE'));
    const type = e.problems.find((p) => p.includes('sync.pageSize'));
    const key = e.problems.find((p) => p.includes('segmentaton'));
    expect(env).toMatch(/^line 1: /);
    expect(type).toMatch(/^line 7: sync\.pageSize: /);
    expect(type).toMatch(/number/);
    expect(key).toMatch(/^line 8: segmentaton: unknown key/);
    expect(key).toContain('did you mean "segmentation"?');
    // sorted by line
    const lines = e.problems.map((p) => Number(/^line (\d+)/.exec(p)?.[1]));
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
    // the message lists them all, and names the file
    for (const p of e.problems) expect(e.message).toContain(p);
    expect(e.oneLine()).toContain(FILE);
  });

  // BUG (src/config/load.ts interpolate): a missing variable's problem has the line but not
  // the path of the key it was meant for, unlike every other problem.
  it('names the path of a missing variable', () => {
    const e = problemsOf(`connectors:
  - name: files
    type: csv
    contacts: \${CONTACTS_CSV}
`);
    expect(e.problems[0]).toMatch(/^line 4: connectors\[0\]\.contacts: /);
  });

  it('reports an unknown key with a block value on the key line, not its value line', () => {
    const e = problemsOf(`${MINIMAL}segmentaton:
  k: 3
`);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^line 5: segmentaton: unknown key/);
  });

  it('suggests a connector type for a typo, and lists the known ones', () => {
    const e = problemsOf(`connectors:
  - name: files
    type: cvs
    contacts: c.csv
`);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^line 3: connectors\[0\]\.type: unknown connector type "cvs"/);
    expect(e.problems[0]).toContain('did you mean "csv"?');
  });

  it('offers no suggestion for a type that is nothing like a known one', () => {
    const e = problemsOf(`connectors:
  - name: files
    type: zendesk-enterprise
    contacts: c.csv
`);
    expect(e.problems[0]).toContain('unknown connector type "zendesk-enterprise"');
    expect(e.problems[0]).not.toContain('did you mean');
  });

  it('checks each connector entry against its own schema, with did-you-mean', () => {
    const e = problemsOf(`connectors:
  - name: files
    type: csv
    contacts: c.csv
    delimter: ";"
`);
    expect(e.problems).toEqual([expect.stringMatching(/^line 5: connectors\[0\]\.delimter: unknown key \(did you mean "delimiter"\?\)/)]);
  });

  it('reports a missing required connector key', () => {
    const e = problemsOf(`connectors:
  - name: files
    type: csv
`);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toContain('connectors[0].contacts');
  });

  it('rejects a push target naming a connector that does not exist', () => {
    const e = problemsOf(`${MINIMAL}push:
  targets:
    - connector: filez
`);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^line 7: push\.targets\[0\]\.connector: no connector named "filez"/);
    expect(e.problems[0]).toContain('did you mean "files"?');
  });

  it('rejects a push target on a connector that cannot write', () => {
    const e = problemsOf(
      `connectors:
  - name: crm
    type: fakecrm
    accessToken: abcdefgh
push:
  targets:
    - connector: crm
`,
      {},
      withFake,
    );
    expect(e.problems).toEqual([expect.stringContaining('push.targets[0].connector: connector "crm" (type fakecrm) cannot write segments')]);
  });

  it('rejects duplicate connector names', () => {
    const e = problemsOf(`connectors:
  - name: files
    type: csv
    contacts: a.csv
  - name: files
    type: csv
    contacts: b.csv
`);
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^line 5: connectors\[1\]\.name: .*"files".*twice/);
  });

  it('requires at least one connector', () => {
    const e = problemsOf('connectors: []\n');
    expect(e.problems).toEqual([expect.stringContaining('at least one connector')]);
  });

  it('validates nested values (k range, enum)', () => {
    const e = problemsOf(`${MINIMAL}segmentation:
  k: { min: 6, max: 3 }
  algorithm: dbscann
`);
    expect(e.problems).toHaveLength(2);
    expect(e.problems.some((p) => p.includes('k.min must not exceed k.max'))).toBe(true);
    expect(e.problems.some((p) => /^line 7: segmentation\.algorithm: /.test(p))).toBe(true);
  });

  // BUG (src/config/load.ts parseConfig): parseDocument runs with prettyErrors: false, so yaml
  // never fills e.linePos and every syntax error reads "line ?: ...". Use lc.linePos(e.pos[0]).
  it('reports YAML syntax errors with a line', () => {
    const e = problemsOf('connectors:\n  - name: files\n    type: csv\n  contacts: [oops\n');
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.problems[0]).toMatch(/^line \d+: /);
  });

  it('rejects duplicate YAML keys', () => {
    const e = problemsOf(`${MINIMAL}store: a.db\nstore: b.db\n`);
    expect(e.problems).toEqual([expect.stringContaining('Map keys must be unique')]);
  });

  it('reports duplicate YAML keys with the line of the second key (same linePos bug)', () => {
    const e = problemsOf(`${MINIMAL}store: a.db\nstore: b.db\n`);
    expect(e.problems[0]).toMatch(/^line 6: /);
  });
});

describe('loadConfig', () => {
  it('throws CONFIG_NOT_FOUND with a hint for a missing file', () => {
    try {
      loadConfig('/nonexistent/dir/segsync.yaml', { registry: defaultRegistry, env: {} });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      const u = e as UserError;
      expect(u.code).toBe('CONFIG_NOT_FOUND');
      expect(u.exitCode).toBe(ExitCode.usage);
      expect(u.oneLine()).toContain('/nonexistent/dir/segsync.yaml');
      expect(u.hint).toContain('segsync init');
    }
  });

  it('reads a file from disk and resolves against its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segsync-cfg-'));
    try {
      writeFileSync(join(dir, 'segsync.yaml'), MINIMAL);
      const c = loadConfig(join(dir, 'segsync.yaml'), { registry: defaultRegistry, env: {} });
      expect(c.baseDir).toBe(dir);
      expect(c.store).toBe(join(dir, 'data', 'segsync.db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
