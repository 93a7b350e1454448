import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, makeScrubber, REDACTED, type Logger } from '../../src/core/logger.js';

const SECRET = 'tok-SECRET-123456';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'segsync-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function read(logger: Logger, file: string): string {
  logger.flush?.();
  return readFileSync(file, 'utf8');
}

describe('createLogger with a file', () => {
  it('never writes a secret, by key path or by value', () => {
    const file = join(dir, 'nested', 'segsync.log');
    const logger = createLogger({ level: 'info', file, secrets: [SECRET] });
    logger.info(
      {
        accessToken: SECRET,
        headers: { authorization: `Bearer ${SECRET}` },
        config: { connectors: [{ name: 'hubspot', accessToken: SECRET }] },
        note: `token is ${SECRET} in a string field`,
      },
      `calling with ${SECRET} and Bearer abcdefghijkl`,
    );
    const text = read(logger, file);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('abcdefghijkl');
    expect(text).toContain(REDACTED);

    const line = JSON.parse(text.trim().split('\n')[0]!) as Record<string, unknown> & {
      headers: { authorization: string };
      config: { connectors: { name: string; accessToken: string }[] };
    };
    expect(line.accessToken).toBe(REDACTED);
    expect(line.headers.authorization).toBe(REDACTED);
    expect(line.config.connectors[0]?.accessToken).toBe(REDACTED);
    // what is not secret survives
    expect(line.config.connectors[0]?.name).toBe('hubspot');
    expect(line.msg).toBe(`calling with ${REDACTED} and Bearer ${REDACTED}`);
    expect(line.note).toBe(`token is ${REDACTED} in a string field`);
    expect(line.level).toBe(30);
  });

  it('redacts the usual secret keys at the top level and two levels down', () => {
    const file = join(dir, 'keys.log');
    const logger = createLogger({ level: 'info', file });
    logger.info({
      password: 'pw-value-1',
      clientSecret: 'cs-value-2',
      oauth: { refreshToken: 'rt-value-3' },
      a: { b: { apiKey: 'ak-value-4' } },
      safe: 'visible-value',
    });
    const text = read(logger, file);
    for (const v of ['pw-value-1', 'cs-value-2', 'rt-value-3', 'ak-value-4']) expect(text).not.toContain(v);
    expect(text).toContain('visible-value');
  });

  it('scrubs secrets inside error messages and stacks', () => {
    const file = join(dir, 'err.log');
    const logger = createLogger({ level: 'info', file, secrets: [SECRET] });
    logger.error({ err: new Error(`401 for token ${SECRET}`) }, 'request failed');
    const text = read(logger, file);
    expect(text).not.toContain(SECRET);
    expect(text).toContain('401 for token');
  });

  it('respects the level', () => {
    const file = join(dir, 'level.log');
    const logger = createLogger({ level: 'warn', file });
    logger.info('quiet-info-line');
    logger.warn('loud-warn-line');
    const text = read(logger, file);
    expect(text).not.toContain('quiet-info-line');
    expect(text).toContain('loud-warn-line');
  });

  // BUG (src/core/logger.ts makeScrubber): with no known secret values the scrubber is the
  // identity, so the Bearer-token pattern is not applied either.
  it('masks a Bearer token in a message even when no secret values are known', () => {
    const file = join(dir, 'bearer.log');
    const logger = createLogger({ level: 'info', file });
    logger.info('Authorization: Bearer abcdefghijkl');
    const text = read(logger, file);
    expect(text).not.toContain('abcdefghijkl');
  });
});

describe('makeScrubber', () => {
  it('masks every occurrence, longest secret first', () => {
    const scrub = makeScrubber(['abcd', 'abcdefgh']);
    expect(scrub('x abcdefgh y abcd z abcdefgh')).toBe(`x ${REDACTED} y ${REDACTED} z ${REDACTED}`);
  });

  it('ignores values too short to be secrets', () => {
    const scrub = makeScrubber(['abc', 'longer-secret']);
    expect(scrub('abc longer-secret')).toBe(`abc ${REDACTED}`);
  });
});
