/** sync, segment, push and run: the commands that change the store or a CRM. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../core/errors.js';
import { withRun } from '../../jobs/with-run.js';
import { syncJob, type SyncJobResult } from '../../jobs/sync.js';
import { assignTouched, type AssignTouchedOutcome } from '../../jobs/assign-touched.js';
import { retrainDecision, type RetrainDecision } from '../../jobs/retrain.js';
import { driftReasons, measureDrift, type DriftMeasure } from '../../jobs/drift.js';
import { runSegmentation, type SegmentResult } from '../../segment/run.js';
import { runPush, type PushResult } from '../../push/engine.js';
import { generateDemo } from '../../demo/generate.js';
import { pushCounts, pushStatus, syncAndAssign, syncCounts } from '../../schedule/jobs.js';
import type { JobContext } from '../../jobs/context.js';
import type { RunStatus } from '../../store/runs-repo.js';
import type { Candidate } from '../../segment/select.js';
import { openSession, type GlobalOptions } from '../session.js';
import { printJson, printLine } from '../output.js';
import { table, pct, num } from '../table.js';
import { activeSegments, segmentTable } from '../segment-table.js';

function exitFor(status: RunStatus): number {
  return status === 'held' ? ExitCode.held : status === 'failed' ? ExitCode.runFailed : ExitCode.ok;
}

function printSync(r: SyncJobResult): void {
  printLine(
    table(
      ['connector', 'stream', 'read', 'upserted', 'deleted', 'quarantined'],
      r.streams.map((s) => [s.connector, s.stream, s.read, s.upserted, s.deleted, s.quarantined]),
    ),
  );
  if (r.totals.quarantined) printLine(`\n${r.totals.quarantined} records quarantined (see \`segsync status\` for the reasons by line).`);
}

function printAssign(a: AssignTouchedOutcome | undefined): void {
  if (!a || a.status === 'no-model') return;
  if (a.status === 'model-invalid') {
    printLine(`the active model cannot assign the synced customers (${a.error}): run \`segsync segment\``);
    return;
  }
  if (a.touched === 0) return;
  printLine(
    `model #${a.modelId} (no retrain): ${a.assigned} customers touched by the sync assigned, ${a.moved} moved segment` +
      `${a.removed ? `, ${a.removed} left (no live contact)` : ''}`,
  );
}

function driftLine(d: DriftMeasure): string {
  const top = d.features[0];
  return `drift against model #${d.modelId}: largest PSI ${num(d.max, 3)}${top ? ` (${top.feature})` : ''}, retrain above ${d.maxPsi}`;
}

function printSegment(ctx: JobContext, r: SegmentResult): void {
  printLine(
    `model #${r.modelId}: ${r.algorithm}, k=${r.k}, silhouette ${num(r.silhouette, 3)}, Davies-Bouldin ${num(r.daviesBouldin, 3)}, ` +
      `Calinski-Harabasz ${num(r.calinskiHarabasz, 0)}${r.stability === null ? '' : `, stability ${num(r.stability, 2)}`}` +
      `${r.churn === null ? '' : `, churn ${pct(r.churn)}`} (scored on held-out customers)`,
  );
  const model = ctx.store.models.activeModel();
  const cands = (model?.candidates ?? []) as Candidate[];
  if (cands.length > 1) {
    printLine(
      table(
        ['algorithm', 'k', 'silhouette', 'davies-bouldin', 'calinski-harabasz', 'smallest', 'noise', 'stability', ''],
        cands.map((c) => [
          c.algorithm,
          c.k,
          num(c.silhouette, 3),
          num(c.daviesBouldin, 3),
          num(c.calinskiHarabasz, 0),
          pct(c.minShare),
          pct(c.noiseShare),
          c.stability === null ? '-' : num(c.stability, 2),
          c.chosen ? '<- chosen' : c.eligible ? '' : 'set aside',
        ]),
      ),
    );
  }
  printLine();
  printLine(segmentTable(activeSegments(ctx.store)));
}

function printPush(r: PushResult): void {
  if (r.held) {
    printLine(`push HELD: ${pct(r.churn ?? 0)} of customers changed segment, above push.maxChurn. Review the plan below, then run \`segsync push --approve\`.`);
  }
  for (const t of r.targets) {
    const verb = r.dryRun || r.held ? 'plan' : 'pushed';
    if (t.adds + t.removes === 0) {
      printLine(`${t.target}: no changes, nothing written`);
      continue;
    }
    printLine(
      `${t.target} (${verb}): ${t.adds} adds, ${t.removes} removes${verb === 'pushed' ? `, ${t.written} written, ${t.failed} failed${t.rejected ? `, ${t.rejected} rejected` : ''}` : ''}`,
    );
    printLine(table(['segment', 'adds', 'removes'], t.segments.map((s) => [s.name, s.adds, s.removes])));
    for (const e of t.errors.slice(0, 5)) printLine(`  failed: ${e}`);
  }
  // after the tables, so it is the last thing a reader sees
  for (const t of r.targets) {
    if (!t.rejected) continue;
    printLine(
      `warning: ${t.target} rejected ${t.rejected} record${t.rejected === 1 ? '' : 's'} (deleted or unknown there); everything else was applied. ` +
        'The next run checks them again after its sync; `segsync status` lists them.',
    );
    for (const x of t.rejections.slice(0, 5)) printLine(`  rejected: ${x.op} ${x.externalId}: ${x.error}`);
  }
}

export async function syncCommand(g: GlobalOptions, o: { connector?: string; full?: boolean }): Promise<number> {
  const s = openSession(g);
  try {
    const out = await withRun(s.ctx, 'sync', (runId) =>
      syncAndAssign(s.ctx, runId, { full: o.full === true, ...(o.connector !== undefined ? { connector: o.connector } : {}) }),
    );
    if (g.json) printJson({ runId: out.runId, status: out.status, counts: out.counts });
    else {
      printSync(out.result.sync);
      printAssign(out.result.assign);
    }
    return exitFor(out.status);
  } finally {
    s.close();
  }
}

export async function segmentCommand(g: GlobalOptions, o: { algorithm?: string; k?: string }): Promise<number> {
  const k = o.k === undefined ? undefined : Number(o.k);
  if (k !== undefined && (!Number.isInteger(k) || k < 2)) {
    throw new UserError('USAGE', `--k must be a whole number of at least 2, got "${o.k}"`, { exitCode: ExitCode.usage, where: { field: '--k' } });
  }
  const s = openSession(g);
  try {
    const out = await withRun(s.ctx, 'segment', async (runId) => {
      const r = runSegmentation(s.ctx, { runId, ...(o.algorithm !== undefined ? { algorithm: o.algorithm } : {}), ...(k !== undefined ? { k } : {}) });
      return { result: r, counts: { ...r } };
    });
    if (g.json) printJson({ runId: out.runId, status: out.status, counts: out.counts });
    else printSegment(s.ctx, out.result);
    return exitFor(out.status);
  } finally {
    s.close();
  }
}

export async function pushCommand(g: GlobalOptions, o: { connector?: string; dryRun?: boolean; approve?: boolean }): Promise<number> {
  const s = openSession(g);
  try {
    const out = await withRun(s.ctx, 'push', async (runId) => {
      const r = await runPush(s.ctx, {
        runId,
        dryRun: o.dryRun === true,
        approve: o.approve === true,
        signal: s.ctx.signal,
        ...(o.connector !== undefined ? { connector: o.connector } : {}),
      });
      return { result: r, counts: pushCounts(r), status: pushStatus(r) };
    });
    if (g.json) printJson({ runId: out.runId, status: out.status, counts: out.counts });
    else printPush(out.result);
    return exitFor(out.status);
  } finally {
    s.close();
  }
}

/** Generates the embedded demo data set when the config asks for it and the files are absent. */
async function ensureDemoData(ctx: JobContext): Promise<void> {
  const demo = ctx.config.demo;
  if (!demo) return;
  if (existsSync(join(demo.dir, 'contacts.csv')) && existsSync(join(demo.dir, 'transactions.csv'))) return;
  const task = ctx.progress.start('generate demo data', demo.customers, 'customers');
  const r = await generateDemo({ customers: demo.customers, outDir: demo.dir, seed: demo.seed, onProgress: (d, t) => task.update(d, t) });
  task.stop();
  ctx.logger.info({ contacts: r.contacts, transactions: r.transactions, dir: demo.dir }, 'demo data generated');
  process.stderr.write(`generated demo data: ${r.contacts} contacts, ${r.transactions} transactions in ${demo.dir}\n`);
}

export async function runCommand(g: GlobalOptions, o: { full?: boolean; dryRun?: boolean }): Promise<number> {
  const s = openSession(g);
  try {
    await ensureDemoData(s.ctx);
    type RunResult = { sync: SyncJobResult; retrain?: RetrainDecision; drift?: DriftMeasure; seg?: SegmentResult; assign?: AssignTouchedOutcome; push?: PushResult };
    const out = await withRun<RunResult>(s.ctx, 'run', async (runId) => {
      const sync = await syncJob(s.ctx, runId, { full: o.full === true });
      if (s.ctx.signal.aborted) return { result: { sync }, counts: { sync: syncCounts(sync) } };
      // an incremental run keeps the model and places the synced customers, unless a retrain is due
      const model = s.ctx.store.models.activeModel();
      // a full run retrains anyway: no need to read every customer's features twice
      const drift = model && o.full !== true ? measureDrift(s.ctx, model) : undefined;
      const retrain = retrainDecision(s.ctx, model, { full: o.full === true, driftReasons: driftReasons(drift) });
      let assign: AssignTouchedOutcome | undefined;
      if (!retrain.retrain) {
        assign = assignTouched(s.ctx);
        if (assign.status === 'model-invalid') retrain.reasons.push(assign.error);
        retrain.retrain = assign.status !== 'assigned';
      }
      const seg = retrain.retrain ? runSegmentation(s.ctx, { runId }) : undefined;
      const push = await runPush(s.ctx, { runId, dryRun: o.dryRun === true, approve: false, signal: s.ctx.signal });
      return {
        result: { sync, retrain, push, ...(seg ? { seg } : {}), ...(assign ? { assign } : {}), ...(drift ? { drift } : {}) },
        counts: {
          sync: syncCounts(sync),
          retrain,
          ...(drift ? { drift } : {}),
          ...(seg ? { segment: { ...seg } } : {}),
          ...(assign && !retrain.retrain ? { assign } : {}),
          push: pushCounts(push),
        },
        status: pushStatus(push),
      };
    });
    if (g.json) {
      printJson({ runId: out.runId, status: out.status, counts: out.counts });
      return exitFor(out.status);
    }
    const r = out.result;
    printSync(r.sync);
    printLine();
    if (r.drift) printLine(driftLine(r.drift));
    if (r.push) {
      if (r.seg) {
        printLine(`retrained: ${r.retrain?.reasons.join('; ') ?? ''}`);
        printSegment(s.ctx, r.seg);
      } else {
        printAssign(r.assign);
        printLine(segmentTable(activeSegments(s.ctx.store)));
      }
      printLine();
      printPush(r.push);
    }
    printLine();
    printLine(`store:        ${s.config.store}`);
    for (const t of s.config.push.targets) {
      const conn = s.config.connectors.find((c) => c.name === t.connector);
      // `run` synced every connector: this loads nothing new
      const def = conn ? await s.ctx.registry.load(conn.type) : undefined;
      if (def?.writer?.location && def.targetSchema) printLine(`memberships:  ${def.writer.location(def.targetSchema.parse(t), s.config.baseDir)}`);
    }
    printLine(`run log:      ${s.config.log.file}`);
    if (r.push) printLine(`report:       ${await (await import('./report.js')).writeRunReport(s.ctx)}`);
    const rejected = r.push?.targets.reduce((n, t) => n + t.rejected, 0) ?? 0;
    printLine(`run:          #${out.runId} ${out.status}${rejected ? ` with a warning: ${rejected} record${rejected === 1 ? '' : 's'} rejected by the CRMs (above)` : ''}`);
    return exitFor(out.status);
  } finally {
    s.close();
  }
}
