/** Builds what `segsync serve` runs for `realtime`: the webhook processor and the short polls. */
import type { Config } from '../config/schema.js';
import type { ChangeFeed } from '../connector/contract.js';
import type { Registry } from '../connector/registry.js';
import type { Logger } from '../core/logger.js';
import type { JobRunner } from '../schedule/runner.js';
import type { Store } from '../store/index.js';
import { ChangeProcessor } from './processor.js';
import { Poller, type PollTarget } from './poller.js';

export interface RealtimeParts {
  processor?: ChangeProcessor;
  poller: Poller;
  /** what the webhook route needs, when HubSpot webhooks are configured */
  webhooks?: { source: string; feed: ChangeFeed<unknown>; secret: string; publicUrl?: string; account?: string; notify: () => void };
  /** one phrase per active part, for the start-up line */
  describe: string[];
  start(): void;
  stop(): void;
}

export async function startRealtime(o: { config: Config; registry: Registry; runner: JobRunner; store: Store; logger: Logger }): Promise<RealtimeParts> {
  const rt = o.config.realtime;
  const describe: string[] = [];
  let processor: ChangeProcessor | undefined;
  let webhooks: RealtimeParts['webhooks'];
  if (rt?.hubspot) {
    const hs = rt.hubspot;
    // config validation made sure it exists and is a HubSpot connector (or the only one)
    const conn = o.config.connectors.find((c) => (hs.connector !== undefined ? c.name === hs.connector : c.type === 'hubspot'));
    const def = conn ? await o.registry.load(conn.type) : undefined;
    if (!conn || !def?.changes) throw new Error('realtime.hubspot names no HubSpot connector (config validation should have caught this)');
    processor = new ChangeProcessor({ runner: o.runner, store: o.store, logger: o.logger, realtime: rt, source: conn, connector: def });
    const p = processor;
    webhooks = {
      source: conn.name,
      feed: def.changes as ChangeFeed<unknown>,
      secret: hs.clientSecret,
      ...(hs.publicUrl !== undefined ? { publicUrl: hs.publicUrl } : {}),
      ...(hs.portalId !== undefined ? { account: String(hs.portalId) } : {}),
      notify: () => p.notify(),
    };
    describe.push(`HubSpot webhooks at POST /webhooks/hubspot for ${conn.name} (batch window ${rt.batchWindow} ms)`);
  }
  const targets: PollTarget[] = [];
  for (const p of rt?.poll ?? []) {
    const conn = o.config.connectors.find((c) => c.name === p.connector);
    const def = conn ? await o.registry.load(conn.type) : undefined;
    if (!conn || !def) throw new Error(`realtime.poll names no connector ${p.connector} (config validation should have caught this)`);
    targets.push({ conn, connector: def, everyMs: p.every });
    describe.push(`${conn.name} polled every ${p.every / 1000} s`);
  }
  const poller = new Poller({ runner: o.runner, store: o.store, logger: o.logger, targets });
  return {
    ...(processor ? { processor } : {}),
    poller,
    ...(webhooks ? { webhooks } : {}),
    describe,
    start() {
      if (processor || targets.length) {
        const t0 = Date.now();
        if (o.store.changes.ensureContactIndex()) o.logger.info({ ms: Date.now() - t0 }, 'indexed transactions by contact for real-time assignment');
      }
      processor?.start();
      poller.start();
    },
    stop() {
      processor?.stop();
      poller.stop();
    },
  };
}
