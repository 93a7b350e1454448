/**
 * Fault scenario 2: `segsync run` (the built CLI, against the loopback fakes in
 * this process) is killed with SIGKILL at seeded points, then run again. The
 * points: the k-th CRM request of the run (sync or push), killed while that
 * request is in flight, either before the CRM applied it or after (the answer
 * is then lost); and the five crash points of the segment step
 * (SEGSYNC_FAULT_KILL_AT=segment:<n>, src/core/fault-point.ts). After the rerun
 * the end state must equal a clean run's: store, HubSpot lists and property,
 * Salesforce campaigns and field; and at both CRMs every membership was added
 * exactly once and never removed (a re-sent batch changes nothing), none lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Interceptor } from '../support/fake-http.js';
import { jsonOut, startCli } from './support/cli.js';
import { seeded } from './support/switches.js';
import { endState, membershipChanges, runs, startWorld, type EndState, type World } from './support/world.js';

const SEED = 8_2026;
const SYNC_POINTS = 8;
const PUSH_POINTS = 10;
const SEGMENT_POINTS = 5;
const WORLD = { segmentation: '{ algorithm: kmeans, k: 3, nInit: 1, silhouetteSample: 1000, stabilityRounds: 0 }' };
const PARALLEL = 2;

interface Point {
  label: string;
  kind: 'request' | 'segment';
  /** request number (1-based, both CRMs in arrival order) or segment crash point */
  at: number;
  /** request points: the CRM applies the request before the process dies */
  applied: boolean;
}

interface Reference {
  state: EndState;
  adds: number;
  /** requests of the clean run, and the number of the first push request */
  total: number;
  firstPush: number;
}

/** A few distinct numbers in [lo, hi], seeded. */
function pick(rnd: () => number, n: number, lo: number, hi: number): number[] {
  const out = new Set<number>();
  const span = hi - lo + 1;
  while (out.size < Math.min(n, span)) out.add(lo + Math.floor(rnd() * span));
  return [...out].sort((a, b) => a - b);
}

/** Every request both fakes see, in arrival order (the killer goes first, so this sees what it lets through too). */
function recorder(order: string[], crm: string): Interceptor {
  return (r) => {
    order.push(`${crm} ${r.method} ${r.path}`);
    return undefined;
  };
}

let slots = PARALLEL;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (slots === 0) await new Promise<void>((r) => waiting.push(r));
  else slots--;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  }
}

function pushedRows(w: World): number {
  const db = new Database(join(w.dir, 'store.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM pushed').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('SIGKILL at seeded points of `segsync run`, then a rerun', () => {
  let ref: Reference;
  const points: Point[] = [];

  beforeAll(async () => {
    const w = await startWorld(WORLD);
    try {
      const order: string[] = [];
      w.hs.interceptors.unshift(recorder(order, 'hubspot'));
      w.sf.interceptors.unshift(recorder(order, 'salesforce'));
      const e = await startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir }).exit;
      expect(e.code, e.stderr).toBe(0);
      const out = jsonOut(e);
      expect(out?.status).toBe('succeeded');
      // the push starts with the HubSpot property (sync never reads properties)
      const firstPush = order.findIndex((x) => x.startsWith('hubspot') && x.includes('/crm/v3/properties/')) + 1;
      expect(firstPush).toBeGreaterThan(10);
      const push = (out?.counts.push ?? {}) as { adds?: number };
      ref = { state: endState(w, { contactStamps: false }), adds: push.adds ?? -1, total: order.length, firstPush };
      expect(ref.adds).toBe(Object.keys(ref.state.store.pushed).length);
    } finally {
      await w.stop();
    }
  }, 120_000);

  // the points are drawn once the clean run has shown how many requests a run makes
  const rnd = seeded(SEED);
  const planned: { kind: Point['kind']; index: number; applied: boolean }[] = [];
  for (let i = 0; i < SYNC_POINTS; i++) planned.push({ kind: 'request', index: i, applied: rnd() < 0.5 });
  for (let i = 0; i < SEGMENT_POINTS; i++) planned.push({ kind: 'segment', index: i + 1, applied: false });
  for (let i = 0; i < PUSH_POINTS; i++) planned.push({ kind: 'request', index: SYNC_POINTS + i, applied: rnd() < 0.5 });

  const resolve = (p: (typeof planned)[number]): Point => {
    if (points.length === 0) {
      const syncAt = pick(rnd, SYNC_POINTS, 1, ref.firstPush - 1);
      const pushAt = pick(rnd, PUSH_POINTS, ref.firstPush, ref.total);
      points.push(...[...syncAt, ...pushAt].map((at, i) => ({ label: `request ${at} of ${ref.total} (${i < syncAt.length ? 'sync' : 'push'})`, kind: 'request' as const, at, applied: false })));
    }
    if (p.kind === 'segment') return { label: `segment crash point ${p.index}`, kind: 'segment', at: p.index, applied: false };
    const q = points[p.index] as Point;
    return { ...q, applied: p.applied, label: `${q.label}, ${p.applied ? 'applied, answer lost' : 'before the CRM applied it'}` };
  };

  const tried: string[] = [];
  afterAll(() => {
    // the scenario's report: which points were tried (all passed, or a test above failed)
    console.log(`SIGKILL points tried: ${tried.length}\n  ${tried.sort().join('\n  ')}`);
  });

  for (const [n, p] of planned.entries()) {
    it.concurrent(`kill point ${n + 1} of ${planned.length}: the rerun ends where a clean run ends`, async () => {
      const point = resolve(p);
      await slot(async () => {
        const w = await startWorld(WORLD);
        try {
          let seen = 0;
          let kill = (): void => {};
          const killer: Interceptor = (r) => {
            if (point.kind !== 'request' || r.path.startsWith('/services/oauth2/')) return undefined;
            if (++seen !== point.at) return undefined;
            kill();
            return point.applied ? { kind: 'drop', after: true } : { kind: 'hang' };
          };
          w.hs.interceptors.unshift(killer);
          w.sf.interceptors.unshift(killer);
          const env: Record<string, string> = point.kind === 'segment' ? { SEGSYNC_FAULT_KILL_AT: `segment:${point.at}` } : {};
          const first = startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir, env });
          kill = () => first.child.kill('SIGKILL');
          const killed = await first.exit;
          expect(killed.signal, `${point.label}: the run was not killed (${killed.stderr})`).toBe('SIGKILL');
          w.hs.interceptors.shift();
          w.sf.interceptors.shift();

          const acked = pushedRows(w);
          tried.push(`${point.label}: ${acked} of ${ref.adds} memberships acknowledged before the kill`);
          const again = await startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir }).exit;
          expect(again.code, `${point.label}: ${again.stderr}`).toBe(0);
          const out = jsonOut(again);
          expect(out?.status, point.label).toBe('succeeded');
          // the rerun pushes exactly what the killed run had not had acknowledged
          expect(out?.counts.push, point.label).toMatchObject({ adds: ref.adds - acked, removes: 0, written: ref.adds - acked, failed: 0 });
          expect(runs(join(w.dir, 'store.db')).map((r) => r.status), point.label).toEqual(['interrupted', 'succeeded']);

          expect(endState(w, { contactStamps: false }), point.label).toEqual(ref.state);
          const changes = membershipChanges(w);
          for (const [crm, m] of Object.entries(changes)) {
            for (const [k, c] of m) expect(c, `${point.label}: ${crm} ${k}`).toEqual({ adds: 1, removes: 0 });
          }
          expect(changes.hubspot.size + changes.salesforce.size, point.label).toBe(ref.adds);
        } finally {
          await w.stop();
        }
      });
    }, 180_000);
  }
});
