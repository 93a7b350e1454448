/** A store with two models (k=4, then auto), a push, quarantined records and a sync run: everything the report draws. */
import { parseHTML } from 'linkedom';
import { runSegmentation } from '../../src/segment/run.js';
import { runPush } from '../../src/push/engine.js';
import type { Store } from '../../src/store/index.js';
import type { Config } from '../../src/config/schema.js';
import { jobContext, openTestStore, seedStore, tempDir, testConfig } from '../support/store-fixture.js';

export interface ReportFixture {
  dir: string;
  store: Store;
  config: Config;
  clustered: number;
  idle: number;
}

export const NOW = '2026-07-01T00:00:00.000Z';

export async function buildReportStore(opts: { customers?: number; idle?: number } = {}): Promise<ReportFixture> {
  const customers = opts.customers ?? 900;
  const idle = opts.idle ?? 60;
  const dir = tempDir();
  const store = openTestStore(dir);
  seedStore(store, { customers, idle });
  const runId = store.runs.start('sync', 'manual', NOW);
  const rejected = [
    ...Array.from({ length: 7 }, (_, i) => ({ externalId: `t9${i}`, reason: `bad amount: "x${i}"`, location: `transactions.csv:${i + 2}`, payload: {} })),
    ...Array.from({ length: 3 }, (_, i) => ({ externalId: `t8${i}`, reason: `contact c99${i} not found in this connector's contacts`, location: `transactions.csv:${i + 20}`, payload: {} })),
  ];
  store.sync.commitPage({ runId, connector: 'files', stream: 'transactions', transactions: [], rejected, checkpoint: { seeded: true }, now: NOW });
  store.sync.commitPage({
    runId,
    connector: 'files',
    stream: 'contacts',
    contacts: [],
    rejected: [{ externalId: undefined, reason: 'bad email: "not-an-email"', location: 'contacts.csv:5', payload: {} }],
    checkpoint: { seeded: true },
    now: NOW,
  });
  store.runs.finish(
    runId,
    'succeeded',
    { read: customers * 10, upserted: customers * 10 - 11, deleted: 0, quarantined: 11, streams: [{ connector: 'files', stream: 'transactions', read: customers * 9, quarantined: 10 }, { connector: 'files', stream: 'contacts', read: customers + idle, quarantined: 1 }] },
    null,
    NOW,
  );
  const config = testConfig(dir);
  const ctx = jobContext(config, store);
  // the runs are recorded as the CLI records them (withRun): the report reads the push history there
  // k-means, so the expectations below do not move with the choice between algorithms
  for (const k of [4, undefined]) {
    const id = store.runs.start('segment', 'manual', NOW);
    const r = runSegmentation(ctx, { runId: id, algorithm: 'kmeans', ...(k === undefined ? {} : { k }) });
    store.runs.finish(id, 'succeeded', { ...r }, null, NOW);
  }
  const pushRun = store.runs.start('push', 'manual', NOW);
  const pushed = await runPush(ctx, { runId: pushRun, dryRun: false, approve: true, signal: ctx.signal });
  store.runs.finish(pushRun, 'succeeded', { ...pushed }, null, NOW);
  return { dir, store, config, clustered: customers, idle };
}

/** The little of the DOM the tests use (the project compiles without the DOM lib). */
export interface El {
  tagName: string;
  id: string;
  textContent: string | null;
  outerHTML: string;
  attributes: ArrayLike<{ name: string; value: string }>;
  nextElementSibling: El | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
}

export function parse(html: string): El {
  return parseHTML(html).document as unknown as El;
}

/** The marks of one named layer in one chart. */
export function marks(doc: El, chart: string, layer: string): El[] {
  const svg = doc.querySelector(`svg[data-chart="${chart}"]`);
  if (!svg) throw new Error(`no chart ${chart} in the report`);
  return [...svg.querySelectorAll(`g.${layer}_marks > *`)].filter((e) => e.tagName.toLowerCase() !== 'title');
}
