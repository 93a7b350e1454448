import { describe, it, expect } from 'vitest';
import { abortableSleep, createRetryPolicy, type RetryOptions } from '../../src/connector/retry.js';
import { RemoteError, type RemoteErrorKind } from '../../src/core/errors.js';

/** A policy whose sleeps are recorded, never waited. */
function policy(opts: Partial<RetryOptions> = {}) {
  const waits: number[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  const p = createRetryPolicy({
    maxAttempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    random: () => 0.5,
    sleep: async (ms, signal) => {
      waits.push(ms);
      signals.push(signal);
    },
    ...opts,
  });
  return { p, waits, signals };
}

function netError(code: string): Error {
  return new Error('fetch failed', { cause: { code } });
}

/** fn failing with the given errors in order, then returning "ok". */
function failing(...errors: unknown[]) {
  const attempts: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    attempts.push(attempt);
    const e = errors[attempts.length - 1];
    if (e !== undefined) throw e;
    return 'ok';
  };
  return { fn, attempts };
}

describe('classify', () => {
  const { p } = policy();
  it.each<[RemoteErrorKind, boolean]>([
    ['network', true],
    ['server', true],
    ['rate_limit', true],
    ['daily_limit', false],
    ['auth', false],
    ['client', false],
  ])('RemoteError %s -> retryable %s', (kind, retryable) => {
    const c = p.classify(new RemoteError(kind, 'x', { status: 500 }));
    expect(c.kind).toBe(kind);
    expect(c.retryable).toBe(retryable);
  });

  it('carries the remote retryAfterMs', () => {
    expect(p.classify(new RemoteError('rate_limit', 'slow down', { status: 429, retryAfterMs: 1234 })).retryAfterMs).toBe(1234);
    expect(p.classify(new RemoteError('rate_limit', 'slow down', { status: 429 })).retryAfterMs).toBeUndefined();
  });

  it.each([['ECONNRESET'], ['ECONNREFUSED'], ['ETIMEDOUT'], ['ENOTFOUND'], ['UND_ERR_SOCKET'], ['UND_ERR_SOMETHING_NEW']])(
    'an error caused by %s is a retryable network error',
    (code) => {
      expect(p.classify(netError(code))).toEqual({ kind: 'network', retryable: true });
    },
  );

  it('finds the code on the error itself and a few causes deep', () => {
    const direct = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(p.classify(direct).kind).toBe('network');
    const deep = new Error('outer', { cause: new Error('middle', { cause: { code: 'ETIMEDOUT' } }) });
    expect(p.classify(deep)).toEqual({ kind: 'network', retryable: true });
  });

  it('treats undici "fetch failed" TypeErrors as network errors', () => {
    expect(p.classify(new TypeError('fetch failed')).retryable).toBe(true);
  });

  it('treats unknown errors and unknown codes as non-retryable client errors', () => {
    expect(p.classify(new Error('boom'))).toEqual({ kind: 'client', retryable: false });
    expect(p.classify(Object.assign(new Error('nope'), { code: 'ENOENT' })).retryable).toBe(false);
    expect(p.classify('a string').retryable).toBe(false);
    expect(p.classify(undefined).retryable).toBe(false);
  });
});

describe('run', () => {
  it('returns the first success without sleeping', async () => {
    const { p, waits } = policy();
    const { fn, attempts } = failing();
    await expect(p.run('get', fn)).resolves.toBe('ok');
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('retries transient failures and passes the attempt number', async () => {
    const { p, waits } = policy();
    const { fn, attempts } = failing(netError('ECONNRESET'), new RemoteError('server', '503', { status: 503 }));
    await expect(p.run('get', fn)).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it.each<[RemoteErrorKind]>([['auth'], ['client'], ['daily_limit']])('throws a %s error at once', async (kind) => {
    const { p, waits } = policy();
    const err = new RemoteError(kind, 'denied', { status: 401 });
    const { fn, attempts } = failing(err);
    await expect(p.run('get', fn)).rejects.toBe(err);
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('rethrows a non-retryable plain error unchanged', async () => {
    const { p } = policy();
    const err = new Error('bug in the mapper');
    await expect(p.run('get', failing(err).fn)).rejects.toBe(err);
  });

  it('gives up after maxAttempts, rethrowing the last RemoteError', async () => {
    const { p, waits } = policy({ maxAttempts: 3 });
    const errs = [1, 2, 3, 4].map((i) => new RemoteError('server', `503 #${i}`, { status: 503 }));
    const { fn, attempts } = failing(...errs);
    await expect(p.run('get', fn)).rejects.toBe(errs[2]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it('wraps an exhausted network failure in a RemoteError naming the label and attempts', async () => {
    const { p } = policy({ maxAttempts: 2 });
    const last = netError('ECONNRESET');
    const { fn, attempts } = failing(netError('ECONNRESET'), last, netError('ECONNRESET'));
    const e = await p.run('GET /contacts', fn).catch((x: unknown) => x);
    expect(attempts).toEqual([1, 2]);
    expect(e).toBeInstanceOf(RemoteError);
    const re = e as RemoteError;
    expect(re.kind).toBe('network');
    expect(re.message).toContain('GET /contacts');
    expect(re.message).toContain('2 attempts');
    expect(re.cause).toBe(last);
  });

  it('maxAttempts 1 never retries', async () => {
    const { p, waits } = policy({ maxAttempts: 1 });
    const { fn, attempts } = failing(new RemoteError('server', '500', { status: 500 }));
    await expect(p.run('get', fn)).rejects.toBeInstanceOf(RemoteError);
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('waits with capped exponential backoff', async () => {
    // random = 1 - tiny: the wait is at its upper bound, the cap of the attempt
    const { p, waits } = policy({ maxAttempts: 7, baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999999 });
    const errs = Array.from({ length: 6 }, () => new RemoteError('server', '502', { status: 502 }));
    await p.run('get', failing(...errs).fn);
    const caps = [100, 200, 400, 800, 1000, 1000];
    expect(waits).toHaveLength(6);
    waits.forEach((w, i) => {
      expect(w).toBeLessThanOrEqual(caps[i]!);
      expect(w).toBeGreaterThanOrEqual(caps[i]! - 1);
    });
  });

  it('jitters the wait from the injected random source, never beyond the cap', async () => {
    const draws = [0, 0.25, 0.5, 0.75, 0.999];
    const results: number[] = [];
    for (const r of draws) {
      const { p, waits } = policy({ maxAttempts: 2, baseDelayMs: 400, maxDelayMs: 10_000, random: () => r });
      await p.run('get', failing(netError('ETIMEDOUT')).fn);
      results.push(waits[0]!);
    }
    for (const w of results) {
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThanOrEqual(400);
    }
    // strictly increasing in the random draw: it is the jitter source
    for (let i = 1; i < results.length; i++) expect(results[i]!).toBeGreaterThan(results[i - 1]!);
  });

  it('never exceeds maxDelayMs even for large attempt numbers', () => {
    const { p } = policy({ baseDelayMs: 500, maxDelayMs: 2_000, random: () => 0.999999 });
    const c = { kind: 'server' as const, retryable: true };
    for (const attempt of [1, 5, 20, 60, 2000]) {
      const d = p.delayFor(c, attempt);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeLessThanOrEqual(2_000);
      expect(d).toBeGreaterThan(0);
    }
  });

  it('honours retryAfterMs from the remote instead of the backoff', async () => {
    let draws = 0;
    const { p, waits } = policy({
      random: () => {
        draws++;
        return 0.5;
      },
    });
    const err = new RemoteError('rate_limit', '429', { status: 429, retryAfterMs: 2_500 });
    await expect(p.run('get', failing(err, err).fn)).resolves.toBe('ok');
    expect(waits).toEqual([2_500, 2_500]);
    expect(draws).toBe(0);
  });

  it('bounds an absurd retryAfterMs and treats a negative one as zero', () => {
    const { p } = policy({ maxDelayMs: 1_000 });
    const huge = p.delayFor({ kind: 'rate_limit', retryable: true, retryAfterMs: 86_400_000 }, 1);
    expect(huge).toBeLessThan(86_400_000);
    expect(huge).toBeGreaterThanOrEqual(1_000);
    expect(p.delayFor({ kind: 'rate_limit', retryable: true, retryAfterMs: -5 }, 1)).toBe(0);
  });

  it('does not retry a non-idempotent call on 5xx', async () => {
    const { p, waits } = policy();
    const err = new RemoteError('server', '502', { status: 502 });
    const { fn, attempts } = failing(err);
    await expect(p.run('POST /lists', fn, { idempotent: false })).rejects.toBe(err);
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('does not retry a non-idempotent call after a connection reset (it may have been applied)', async () => {
    const { p, waits } = policy();
    const { fn, attempts } = failing(netError('ECONNRESET'));
    const e = await p.run('POST /lists', fn, { idempotent: false }).catch((x: unknown) => x);
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
    expect(e).toBeInstanceOf(RemoteError);
    expect((e as RemoteError).kind).toBe('network');
  });

  it('retries a non-idempotent call on 429 and on a refused connection (not applied)', async () => {
    const { p, waits } = policy();
    const { fn, attempts } = failing(new RemoteError('rate_limit', '429', { status: 429 }), netError('ECONNREFUSED'));
    await expect(p.run('POST /lists', fn, { idempotent: false })).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it('passes the abort signal to sleep', async () => {
    const { p, signals } = policy();
    const ac = new AbortController();
    await p.run('get', failing(netError('ECONNRESET')).fn, { signal: ac.signal });
    expect(signals).toEqual([ac.signal]);
  });

  it('stops when sleep rejects (aborted)', async () => {
    const abortErr = new Error('aborted by user');
    const p = createRetryPolicy({ maxAttempts: 5, sleep: () => Promise.reject(abortErr), random: () => 0 });
    const { fn, attempts } = failing(netError('ECONNRESET'), netError('ECONNRESET'));
    await expect(p.run('get', fn)).rejects.toBe(abortErr);
    expect(attempts).toEqual([1]);
  });
});

describe('abortableSleep', () => {
  it('rejects at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const t0 = Date.now();
    await expect(abortableSleep(60_000, ac.signal)).rejects.toThrow('stop');
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('rejects when aborted while waiting', async () => {
    const ac = new AbortController();
    const p = abortableSleep(60_000, ac.signal);
    setTimeout(() => ac.abort(), 5);
    await expect(p).rejects.toBeInstanceOf(Error);
  });

  it('resolves after a short wait', async () => {
    await expect(abortableSleep(1)).resolves.toBeUndefined();
  });
});
