/** The HubSpot entries in segsync.yaml, validated through the project's config loader. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/core/errors.js';
import { durationMs, hubspotTargetSchema } from '../../../connectors/hubspot/config.js';
import csv from '../../../connectors/csv/index.js';
import hubspot from '../../../connectors/hubspot/index.js';
import { createRegistry } from '../../../src/connector/registry.js';

const registry = createRegistry([csv, hubspot]);

const load = (connector: string, target = '') =>
  parseConfig(
    `connectors:
  - name: hubspot
    type: hubspot
    accessToken: \${HUBSPOT_ACCESS_TOKEN}
${connector.replace(/^/gm, '    ')}
push:
  targets:
    - connector: hubspot
${target.replace(/^/gm, '      ')}
`,
    join('/tmp', 'segsync.yaml'),
    { registry, env: { HUBSPOT_ACCESS_TOKEN: 'pat-na1-secret-value' } },
  );

function problems(connector: string, target = ''): string[] {
  try {
    load(connector, target);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('HubSpot config', () => {
  it('fills every default', () => {
    const c = load('');
    expect(c.connectors[0]?.settings).toEqual({
      name: 'hubspot',
      type: 'hubspot',
      accessToken: 'pat-na1-secret-value',
      baseUrl: 'https://api.hubapi.com',
      contactProperties: [],
      defaultCurrency: 'USD',
      dealStages: { won: ['closedwon'], lost: ['closedlost'], pipelines: {}, usePipelineMetadata: true },
      archivedCheckInterval: '24h',
      rateLimit: { requestsPer10s: 100, searchPerSecond: 4 },
    });
    expect(c.secrets).toContain('pat-na1-secret-value');
    expect(hubspotTargetSchema.parse({ connector: 'hubspot' })).toEqual({
      connector: 'hubspot',
      lists: { prefix: 'segsync: ' },
      property: 'segsync_segment',
      propertyLabel: 'segsync segment',
      propertyGroup: 'segsync',
    });
  });

  it('takes a base URL without its trailing slash, and lists/property can be turned off', () => {
    const c = load('baseUrl: http://127.0.0.1:8080/hubspot/', 'lists: false');
    expect((c.connectors[0]?.settings as { baseUrl: string }).baseUrl).toBe('http://127.0.0.1:8080/hubspot');
    expect(hubspotTargetSchema.parse({ connector: 'h', lists: false })).toMatchObject({ lists: false, property: 'segsync_segment' });
    expect(problems('', 'lists: false\nproperty: false')).toEqual([expect.stringMatching(/push\.targets\[0\]: lists and property are both false/)]);
  });

  it('names each bad key with its line, and suggests the key meant', () => {
    const p = problems('acessToken: x\narchivedCheckInterval: daily\ntimeZone: Mars/Olympus\nrateLimit: { requestsPer10s: 0 }', 'property: Segment Name\nlist: { prefix: x }');
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/connectors\[0\]\.acessToken: unknown key \(did you mean "accessToken"\?\)/),
        expect.stringMatching(/connectors\[0\]\.archivedCheckInterval: expected a duration/),
        expect.stringMatching(/connectors\[0\]\.timeZone: expected an IANA time zone/),
        expect.stringMatching(/connectors\[0\]\.rateLimit\.requestsPer10s/),
        expect.stringMatching(/push\.targets\[0\]\.list: unknown key \(did you mean "lists"\?\)/),
        expect.stringMatching(/push\.targets\[0\]\.property/),
      ]),
    );
  });

  it('reads durations', () => {
    expect([durationMs('30m'), durationMs('24h'), durationMs('7d'), durationMs('never')]).toEqual([1_800_000, 86_400_000, 604_800_000, null]);
  });
});
