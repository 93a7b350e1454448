/**
 * What the loopback fakes (HubSpot, Salesforce) let a test do to a request
 * before or after the fake handles it: answer something else, answer late,
 * never answer, or drop the connection. The fault suite builds its switches
 * (rate limits, random 5xx, slow answers, daily limits) from these.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as an interceptor sees it. */
export interface SeenRequest {
  method: string;
  /** the API path (for Salesforce: after /services/data/vXX.X) */
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export type Verdict =
  /** answer this instead; with `after`, the fake handles the request first (its effects happen) and the answer is lost */
  | { kind: 'reply'; status: number; body: unknown; headers?: Record<string, string>; after?: boolean }
  /** handle at once, but answer only after `ms` */
  | { kind: 'delay'; ms: number }
  /** never answer; the connection stays open until the client gives up (or the server stops) */
  | { kind: 'hang' }
  /** close the connection without an answer; with `after`, the fake handles the request first */
  | { kind: 'drop'; after?: boolean };

export type Interceptor = (r: SeenRequest) => Verdict | undefined;

/** The first verdict of the interceptors, in order. */
export function verdictFor(interceptors: readonly Interceptor[], r: SeenRequest): Verdict | undefined {
  for (const i of interceptors) {
    const v = i(r);
    if (v) return v;
  }
  return undefined;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Applies a verdict around `handle` (which runs the fake's own routing and
 * returns its answer) and writes the result to `res`.
 */
export async function answerWith<A extends Answer>(
  v: Verdict | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  handle: () => A,
  write: (a: A | Answer) => void,
): Promise<void> {
  if (v?.kind === 'hang') {
    // hold the socket; the client's timeout (or server.closeAllConnections) ends it
    req.socket.on('error', () => {});
    return;
  }
  if (v?.kind === 'drop') {
    if (v.after) handle();
    req.socket.destroy();
    return;
  }
  if (v?.kind === 'reply') {
    if (v.after) handle();
    write({ status: v.status, body: v.body, ...(v.headers ? { headers: v.headers } : {}) });
    return;
  }
  const a = handle();
  if (v?.kind === 'delay') {
    // handled at once, answered late: a client that gives up meanwhile loses an applied answer
    await new Promise((r) => setTimeout(r, v.ms));
    if (res.destroyed || req.socket.destroyed) return;
  }
  write(a);
}
