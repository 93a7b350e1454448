/** The `realtime` config: durations, defaults, and the connectors it names. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { defaultRegistry } from '../../src/connector/registry.js';

const HEAD = `store: ./store.db
connectors:
  - { name: files, type: csv, contacts: ./contacts.csv }
  - { name: hs, type: hubspot, accessToken: pat-na1-0000 }
`;

const parse = (yaml: string, env: Record<string, string> = {}) => parseConfig(HEAD + yaml, join('/tmp', 'segsync.yaml'), { registry: defaultRegistry, env });

function problems(yaml: string): string {
  try {
    parse(yaml);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a config error');
}

describe('realtime config', () => {
  it('reads durations and fills the defaults', () => {
    const c = parse(`realtime:\n  hubspot: { clientSecret: "\${HS_SECRET}" }\n  poll:\n    - { connector: files, every: 90s }\n`, { HS_SECRET: 'app-secret-value' });
    expect(c.realtime).toEqual({
      batchWindow: 2_000,
      maxBatch: 1_000,
      dedupeRetention: 7 * 86_400_000,
      hubspot: { clientSecret: 'app-secret-value' },
      poll: [{ connector: 'files', every: 90_000 }],
    });
    expect(c.secrets).toContain('app-secret-value');
    expect(parse('realtime: { batchWindow: 500ms, poll: [{ connector: files }] }').realtime).toMatchObject({ batchWindow: 500, poll: [{ every: 60_000 }] });
  });

  it('names the key of every mistake', () => {
    expect(problems('realtime: { batchWindw: 2s }')).toMatch(/realtime.*batchWindw.*did you mean "batchWindow"/);
    expect(problems('realtime: { batchWindow: soon }')).toMatch(/realtime\.batchWindow.*expected a duration/);
    expect(problems('realtime: { poll: [{ connector: files, every: 2s }] }')).toMatch(/realtime\.poll\[0\]\.every.*between 10s/);
    expect(problems('realtime: { poll: [{ connector: fils }] }')).toMatch(/realtime\.poll\[0\]\.connector.*no connector named "fils" \(did you mean "files"\?\)/);
    expect(problems('realtime: { hubspot: { connector: files, clientSecret: x } }')).toMatch(/realtime\.hubspot\.connector.*type csv, not hubspot/);
    expect(problems('realtime: { hubspot: { clientSecret: "" } }')).toMatch(/realtime\.hubspot\.clientSecret/);
  });
});
