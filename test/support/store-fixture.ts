/** Builds stores with synthetic customers for in-process tests of segment and push. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';
import { createRng } from '../../src/ml/random.js';
import type { Contact, Transaction } from '../../src/core/records.js';
import { parseConfig } from '../../src/config/load.js';
import { defaultRegistry } from '../../src/connector/registry.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/logger.js';
import { noProgress } from '../../src/core/progress.js';
import { createRetryPolicy } from '../../src/connector/retry.js';
import type { JobContext } from '../../src/jobs/context.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'segsync-test-'));
}

export function testConfig(dir: string, yaml = ''): Config {
  const text = `store: ./store.db
log: { level: silent, file: ./log.jsonl }
connectors:
  - { name: files, type: csv, contacts: ./contacts.csv, transactions: ./transactions.csv }
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: { min: 3, max: 5 }, nInit: 2, silhouetteSample: 2000 }
push:
  targets:
    - { connector: files, file: ./memberships.csv }
${yaml}`;
  return parseConfig(text, join(dir, 'segsync.yaml'), { registry: defaultRegistry, env: {} });
}

export function jobContext(config: Config, store: Store): JobContext {
  return {
    config,
    store,
    logger: silentLogger(),
    progress: noProgress,
    registry: defaultRegistry,
    retry: createRetryPolicy({ sleep: async () => {} }),
    now: () => new Date('2026-07-01T00:00:00Z'),
    signal: new AbortController().signal,
    trigger: 'manual',
  };
}

const DAY = 86_400_000;
const AS_OF = Date.parse('2026-06-30T00:00:00Z');

/**
 * `customers` contacts in three behaviour groups (recent frequent, lapsed, one-off)
 * plus `idle` contacts with no purchase; properties `visits` and `age`.
 */
export function seedStore(store: Store, opts: { customers: number; idle?: number; seed?: number; connector?: string }): void {
  const rng = createRng(opts.seed ?? 1);
  const connector = opts.connector ?? 'files';
  const contacts: Contact[] = [];
  const txs: Transaction[] = [];
  const total = opts.customers + (opts.idle ?? 0);
  for (let i = 0; i < total; i++) {
    const ext = `c${String(i).padStart(6, '0')}`;
    const group = i % 3;
    contacts.push({
      id: `${connector}:${ext}`,
      connector,
      externalId: ext,
      email: `p${i}@example.com`,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      properties: { visits: group * 20 + Math.floor(rng.next() * 5), age: 20 + group * 20 + Math.floor(rng.next() * 5) },
    });
    if (i >= opts.customers) continue;
    const orders = group === 0 ? 15 + Math.floor(rng.next() * 5) : group === 1 ? 5 + Math.floor(rng.next() * 3) : 1;
    const lastAgo = group === 0 ? 5 + rng.next() * 20 : group === 1 ? 300 + rng.next() * 100 : 100 + rng.next() * 50;
    for (let j = 0; j < orders; j++) {
      const t = AS_OF - (lastAgo + j * 20) * DAY;
      txs.push({
        id: `${connector}:t${i}_${j}`,
        connector,
        externalId: `t${i}_${j}`,
        contactId: `${connector}:${ext}`,
        amount: (group === 2 ? 400 : 50) * (0.8 + rng.next() * 0.4),
        currency: 'USD',
        occurredAt: new Date(t).toISOString(),
        status: 'won',
        properties: {},
      });
    }
  }
  store.sync.commitPage({ runId: 0, connector, stream: 'contacts', contacts, rejected: [], checkpoint: { seeded: true }, now: '2026-07-01T00:00:00.000Z' });
  store.sync.commitPage({ runId: 0, connector, stream: 'transactions', transactions: txs, rejected: [], checkpoint: { seeded: true }, now: '2026-07-01T00:00:00.000Z' });
}

export function openTestStore(dir: string): Store {
  return openStore(join(dir, 'store.db'));
}
