/**
 * The one retry policy every connector call goes through. It classifies a
 * failure (network, 429 rolling, daily limit, 5xx, auth, other client error)
 * and computes the wait; connectors never sleep on their own.
 */
import { RemoteError, type RemoteErrorKind } from '../core/errors.js';

export interface RetryOptions {
  /** Total attempts, first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Random source in [0,1), for jitter; seeded in tests. */
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface Classified {
  kind: RemoteErrorKind;
  retryable: boolean;
  /** Wait the remote asked for, if any. */
  retryAfterMs?: number;
}

export interface RetryPolicy {
  /**
   * Run `fn`, retrying transient failures. `idempotent: false` calls (a POST that
   * creates) are retried only when the failure proves the request was not applied
   * (429, or a connection refused before sending).
   */
  run<T>(label: string, fn: (attempt: number) => Promise<T>, opts?: { idempotent?: boolean; signal?: AbortSignal }): Promise<T>;
  classify(err: unknown): Classified;
  /** The wait before attempt `attempt + 1` (1-based) for this classification. */
  delayFor(c: Classified, attempt: number): number;
}

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
/** Failures where the request surely never reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function createRetryPolicy(opts: Partial<RetryOptions> = {}): RetryPolicy {
  const o: RetryOptions = {
    maxAttempts: 6,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    random: Math.random,
    sleep: abortableSleep,
    ...opts,
  };

  const classify = (err: unknown): Classified => {
    if (err instanceof RemoteError) {
      const base = { kind: err.kind, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
      switch (err.kind) {
        case 'network':
        case 'server':
        case 'rate_limit':
          return { ...base, retryable: true };
        default:
          return { ...base, retryable: false };
      }
    }
    if (errCode(err)) return { kind: 'network', retryable: true };
    if (err instanceof TypeError && /fetch failed/i.test(err.message)) return { kind: 'network', retryable: true };
    return { kind: 'client', retryable: false };
  };

  const delayFor = (c: Classified, attempt: number): number => {
    if (c.retryAfterMs !== undefined) return Math.min(Math.max(c.retryAfterMs, 0), o.maxDelayMs * 4);
    // capped exponential backoff with full jitter
    const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap / 2 + (o.random() * cap) / 2);
  };

  const run = async <T>(
    label: string,
    fn: (attempt: number) => Promise<T>,
    ro: { idempotent?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> => {
    const idempotent = ro.idempotent ?? true;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        const c = classify(err);
        const safe = idempotent || c.kind === 'rate_limit' || NOT_SENT_CODES.has(errCode(err) ?? '');
        if (!c.retryable || !safe || attempt >= o.maxAttempts) {
          if (err instanceof RemoteError || !c.retryable) throw err;
          throw new RemoteError(c.kind, `${label}: gave up after ${attempt} attempts: ${(err as Error).message}`, { cause: err });
        }
        await o.sleep(delayFor(c, attempt), ro.signal);
      }
    }
  };

  return { run, classify, delayFor };
}
