/**
 * Fuzzing the config loader: whatever text is in segsync.yaml, loading it ends
 * in a Config or in a UserError with a stable code (printed as one line, exit
 * 2) — never a TypeError, a RangeError or a stack. Seeded and bounded, so it
 * runs in seconds and a failure replays.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { defaultRegistry } from '../../src/connector/registry.js';
import { ExitCode, UserError } from '../../src/core/errors.js';
import { fuzzParams } from './params.js';

const FILE = '/srv/fuzz/segsync.yaml';
const ENV = { HUBSPOT_ACCESS_TOKEN: 'pat-na1-fuzz-token-000000', EMPTY: '', ADMIN: 'x'.repeat(24) };

/** Loads `text`; returns what happened, failing the property on anything but a Config or a UserError. */
function load(text: string): 'ok' | string {
  try {
    parseConfig(text, FILE, { registry: defaultRegistry, env: ENV });
    return 'ok';
  } catch (e) {
    if (!(e instanceof UserError)) throw new Error(`not a user error for ${JSON.stringify(text.slice(0, 300))}: ${String(e)}`, { cause: e });
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.oneLine()).not.toMatch(/\n\s+at /);
    return e.code;
  }
}

// keys of the real schema, a few near misses, and odd ones
const KEYS = [
  'store', 'log', 'level', 'file', 'connectors', 'name', 'type', 'contacts', 'transactions', 'columns', 'delimiter',
  'defaultCurrency', 'accessToken', 'baseUrl', 'instanceUrl', 'sync', 'pageSize', 'maxRejectedShare', 'features',
  'preset', 'extra', 'property', 'transform', 'asOf', 'currency', 'base', 'rates', 'segmentation', 'algorithm',
  'algorithms', 'k', 'min', 'max', 'select', 'seed', 'push', 'maxChurn', 'targets', 'connector', 'schedule', 'segment',
  'timezone', 'server', 'host', 'port', 'token', 'demo', 'dir', 'customers', 'dbscan', 'eps', 'gmm', 'covariance',
  'conectors', 'Store', '__proto__', 'constructor', 'toString', '', ' ', '0', '<<', 'privacy', 'hashEmails',
];
const SCALARS: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('csv', 'hubspot', 'salesforce', 'files', 'auto', 'kmeans', 'rfm', 'none', 'UTC', '*/30 * * * *', 'after-segment',
    './c.csv', '${HUBSPOT_ACCESS_TOKEN}', '${MISSING}', '${EMPTY:-d}', '${', '$${X}', 'info', 'EUR', '2026-02-30', 'https://x.test'),
  fc.integer({ min: -5, max: 100_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
);
const VALUE: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, SCALARS, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
})).value;

/** A plausible config: the right top-level keys with fuzzed values, and sometimes a valid connector. */
const STRUCTURED = fc
  .record({
    top: fc.dictionary(fc.constantFrom(...KEYS), VALUE, { maxKeys: 8 }),
    connector: fc.option(fc.dictionary(fc.constantFrom(...KEYS), VALUE, { maxKeys: 5 }), { nil: undefined }),
    valid: fc.boolean(),
  })
  .map(({ top, connector, valid }) => {
    const doc: Record<string, unknown> = { ...top };
    if (valid) doc.connectors = [{ name: 'files', type: 'csv', contacts: './c.csv', ...(connector ?? {}) }];
    return stringify(doc);
  });

/** Text-level damage to a YAML document: cut, tabs, anchors and aliases, tags, duplicate keys, control bytes. */
const MUTATION = fc.constantFrom(
  (s: string) => s.slice(0, Math.floor(s.length / 2)),
  (s: string) => s.replace(/ {2}/g, '\t'),
  (s: string) => `a: &a [1, 2]\nb: *a\n${s}`,
  (s: string) => `${s}\nstore: !!binary aGVsbG8=\n`,
  (s: string) => `${s}\nstore: !!timestamp 2026-01-01\n`,
  (s: string) => `${s}\nsync: !!set { a, b }\n`,
  (s: string) => `${s}\nstore: !custom x\n`,
  (s: string) => `${s}\n${s}`,
  (s: string) => `\uFEFF${s}`,
  (s: string) => s.replace(/\n/g, '\r\n'),
  (s: string) => `${s}\u0000\u0007`,
  (s: string) => `%YAML 1.1\n---\n${s}`,
  (s: string) => `${s}\n---\nother: doc\n`,
  (s: string) => `<<: {store: x}\n${s}`,
  (s: string) => `? [complex, key]\n: value\n${s}`,
  (s: string) => `${s}\n*undefined_alias`,
);

/** Alias expansion that would blow up memory ("billion laughs"). */
function laughs(levels: number): string {
  let out = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < levels; i++) out += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(',')}]\n`;
  return `${out}connectors: [{ name: files, type: csv, contacts: ./c.csv }]\n`;
}

describe('config loader fuzz', () => {
  it('any text: a Config or a config error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        load(s);
      }),
      fuzzParams(8101, 200),
    );
  });

  it('YAML-shaped documents with fuzzed keys and values: a Config or a config error', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(STRUCTURED, (s) => {
        seen.add(load(s));
      }),
      fuzzParams(8102, 200),
    );
    // the generator reaches both outcomes, so the property is not vacuous
    expect(seen.has('ok')).toBe(true);
    expect(seen.has('CONFIG_INVALID')).toBe(true);
  });

  it('damaged YAML (cut, tabs, aliases, tags, duplicates, BOM, control bytes): a Config or a config error', () => {
    fc.assert(
      fc.property(STRUCTURED, fc.array(MUTATION, { minLength: 1, maxLength: 3 }), (s, ms) => {
        load(ms.reduce((acc, m) => m(acc), s));
      }),
      fuzzParams(8103, 200),
    );
  });

  it('an alias bomb is refused as a config error, not expanded', () => {
    expect(load(laughs(9))).toBe('CONFIG_INVALID');
  });
});
