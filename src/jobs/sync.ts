/** The sync job: every configured connector (or one), contacts then transactions. */
import { UserError } from '../core/errors.js';
import { syncConnector, type StreamCounts } from '../sync/engine.js';
import { ensureEmailMode, privacyPolicy, withPrivacy } from '../privacy/policy.js';
import type { JobContext } from './context.js';

export interface SyncJobResult {
  streams: StreamCounts[];
  totals: { read: number; upserted: number; deleted: number; quarantined: number };
}

export async function syncJob(ctx: JobContext, runId: number, opts: { full: boolean; connector?: string }): Promise<SyncJobResult> {
  const conns = opts.connector === undefined ? ctx.config.connectors : ctx.config.connectors.filter((c) => c.name === opts.connector);
  if (conns.length === 0) {
    throw new UserError('USAGE', `no connector named "${opts.connector}" (configured: ${ctx.config.connectors.map((c) => c.name).join(', ')})`, {
      exitCode: 2,
      where: { field: '--connector' },
    });
  }
  // what the store may keep of a person is applied between parse() and the store
  const policy = privacyPolicy(ctx.config);
  ensureEmailMode(ctx.store, policy);
  const streams: StreamCounts[] = [];
  try {
    for (const conn of conns) {
      const registered = await ctx.registry.load(conn.type);
      const def = withPrivacy(registered, policy);
      streams.push(
        ...(await syncConnector(
          {
            store: ctx.store,
            logger: ctx.logger,
            progress: ctx.progress,
            retry: ctx.retry,
            baseDir: ctx.config.baseDir,
            pageSize: ctx.config.sync.pageSize,
            now: ctx.now,
          },
          def,
          conn,
          { runId, full: opts.full, signal: ctx.signal },
        )),
      );
      ctx.store.runs.progress(runId, { streams });
    }
  } finally {
    // contacts the sources deleted leave no bytes in the WAL either, however the sync ended
    ctx.store.sync.foldErasures();
  }
  const totals = { read: 0, upserted: 0, deleted: 0, quarantined: 0 };
  for (const s of streams) {
    totals.read += s.read;
    totals.upserted += s.upserted;
    totals.deleted += s.deleted;
    totals.quarantined += s.quarantined;
  }
  const share = totals.read ? totals.quarantined / totals.read : 0;
  if (share > ctx.config.sync.maxRejectedShare) {
    throw new UserError(
      'REJECTION_THRESHOLD',
      `${totals.quarantined} of ${totals.read} records (${(share * 100).toFixed(1)}%) were quarantined, above sync.maxRejectedShare (${ctx.config.sync.maxRejectedShare * 100}%)`,
      { hint: `the good records are stored; see the reasons with \`segsync status\` and fix the source`, where: { field: 'sync.maxRejectedShare' } },
    );
  }
  return { streams, totals };
}
