/** The `schedule` and `server` config keys: defaults, checks, and errors that name the key. */
import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { defaultRegistry } from '../../src/connector/registry.js';
import { ConfigError } from '../../src/core/errors.js';

const FILE = '/srv/project/segsync.yaml';
const BASE = `connectors:
  - { name: files, type: csv, contacts: ./contacts.csv }
`;
const parse = (extra: string, env: Record<string, string | undefined> = {}) => parseConfig(BASE + extra, FILE, { registry: defaultRegistry, env });
function problems(extra: string, env: Record<string, string | undefined> = {}): string[] {
  try {
    parse(extra, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a config error');
}

describe('schedule and server config', () => {
  it('defaults: no schedule; server on 127.0.0.1:8787 without a token', () => {
    const c = parse('');
    expect(c.schedule).toBeUndefined();
    expect(c.server).toEqual({ host: '127.0.0.1', port: 8787 });
  });

  it('accepts cron expressions, after-segment and a time zone; the token comes from the environment', () => {
    const c = parse(
      `schedule: { sync: "*/30 * * * *", segment: "0 3 * * *", push: after-segment, timezone: Europe/Paris }
server: { host: 0.0.0.0, port: 9000, token: "\${SEGSYNC_ADMIN_TOKEN}" }
`,
      { SEGSYNC_ADMIN_TOKEN: 'abcdefghijklmnopqrstuvwx' },
    );
    expect(c.schedule).toEqual({ sync: '*/30 * * * *', segment: '0 3 * * *', push: 'after-segment', timezone: 'Europe/Paris' });
    expect(c.server).toEqual({ host: '0.0.0.0', port: 9000, token: 'abcdefghijklmnopqrstuvwx' });
    expect(c.secrets).toContain('abcdefghijklmnopqrstuvwx');
    expect(parse('schedule: { push: "15 4 * * 1" }\n').schedule).toEqual({ push: '15 4 * * 1', timezone: 'UTC' });
    expect(problems('schedule: { push: "15 4 * *" }\n').join()).toMatch(/schedule\.push: not a valid cron expression .*, or "after-segment"/);
  });

  it('an unset optional token (${VAR:-}) is empty, not an error', () => {
    expect(parse('server: { token: "${SEGSYNC_ADMIN_TOKEN:-}" }\n').server.token).toBe('');
  });

  it('names the key of a bad cron, time zone, push value, port, short token or unknown key', () => {
    const p = problems(
      `schedule:
  sync: "61 * * * *"
  push: after-segmnt
  timezone: Mars/Olympus
  segmnt: "0 3 * * *"
server:
  port: 70000
  token: short
`,
    );
    const text = p.join('\n');
    expect(text).toMatch(/line 4: schedule\.sync: not a valid cron expression \(61 is a invalid expression for minute\)/);
    expect(text).toMatch(/line 5: schedule\.push: expected "after-segment" or a cron expression/);
    expect(text).toMatch(/line 6: schedule\.timezone: unknown time zone/);
    expect(text).toMatch(/line 7: schedule\.segmnt: unknown key \(did you mean "segment"\?\)/);
    expect(text).toMatch(/line 9: server\.port:/);
    expect(text).toMatch(/line 10: server\.token: use at least 16 characters/);
  });
});
