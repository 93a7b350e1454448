/**
 * The push engine: desired memberships vs the `pushed` table -> a diff ->
 * planned into the outbox in one transaction -> executed batch by batch through
 * the connector's writer, each acknowledged batch recorded. A crash resumes by
 * re-planning: what was acknowledged is in `pushed`, so only the rest is sent.
 *
 * A record the CRM refuses for a reason of its own (deleted or merged there
 * between sync and push, an unknown id) is rejected, not failed: the rest of
 * the batch and of the run is applied, the rejection is kept in the outbox with
 * the CRM's reason, and the run succeeds with a warning. Nothing retries it
 * within the run; the next push diffs it again, so once a sync has removed the
 * contact from the store nothing is sent for it.
 */
import { UserError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Progress } from '../core/progress.js';
import type { Registry } from '../connector/registry.js';
import type { RetryPolicy } from '../connector/retry.js';
import type { MembershipOp, MembershipSnapshotRow, SegmentRef, WriterContext } from '../connector/contract.js';
import type { Store } from '../store/index.js';
import type { Ack, DesiredRow } from '../store/push-repo.js';
import { churnBetween, diffMemberships } from './diff.js';

export interface PushOptions {
  runId: number;
  dryRun: boolean;
  approve: boolean;
  connector?: string;
  signal: AbortSignal;
  /**
   * Push only these customers' memberships (a real-time run: the customers a
   * webhook or poll touched). Everyone else's pending differences wait for a
   * whole push; the churn hold applies all the same.
   */
  customers?: readonly string[];
}

export interface SegmentPlan {
  segmentId: string;
  name: string;
  adds: number;
  removes: number;
}

export interface TargetResult {
  target: string;
  adds: number;
  removes: number;
  written: number;
  /** ops that failed: the run fails, the next push sends them again */
  failed: number;
  /** ops the CRM refused for the record itself (OpResult.permanent): the run goes on */
  rejected: number;
  segments: SegmentPlan[];
  /** the first failures' reasons */
  errors: string[];
  /** the first rejected records, with the CRM's reason */
  rejections: Rejection[];
}

export interface Rejection {
  op: 'add' | 'remove';
  externalId: string;
  error: string;
}

/** Reasons and records kept per target in the result (the outbox keeps every one). */
const KEEP = 20;

export interface PushResult {
  modelId: number;
  held: boolean;
  churn: number | null;
  dryRun: boolean;
  targets: TargetResult[];
}

export interface PushDeps {
  store: Store;
  config: Config;
  registry: Registry;
  logger: Logger;
  progress: Progress;
  retry: RetryPolicy;
  now: () => Date;
}

export async function runPush(deps: PushDeps, opts: PushOptions): Promise<PushResult> {
  const { store, config, registry } = deps;
  const model = store.models.activeModel();
  if (!model) throw new UserError('NO_MODEL', 'there is no segmentation model to push', { hint: 'run `segsync segment` first' });

  let targets = config.push.targets;
  if (opts.connector !== undefined) {
    targets = targets.filter((t) => t.connector === opts.connector);
    if (targets.length === 0) {
      throw new UserError('USAGE', `no push target uses connector "${opts.connector}"`, { exitCode: 2, where: { field: '--connector' } });
    }
  }
  if (targets.length === 0) {
    throw new UserError('CONFIG_INVALID', 'push.targets is empty: nothing to push to', { exitCode: 2, where: { file: config.file, field: 'push.targets' } });
  }

  const lastPushed = store.models.getMeta('pushed_model_id');
  // every membership of two models: read only when the model changed since the last push
  const churn =
    lastPushed !== undefined && Number(lastPushed) !== model.id ? churnBetween(store.models.memberships(Number(lastPushed)), store.models.memberships(model.id)) : null;
  const held = churn !== null && churn > config.push.maxChurn && !opts.approve;

  const segments = store.models.segments({ includeRetired: true });
  const segName = new Map(segments.map((s) => [s.id, s.name]));
  // a retired segment's list is recorded as such, so it is handled once, not on every push
  const retiredName = (id: string): string => {
    const s = segments.find((x) => x.id === id);
    return s && s.retiredAt !== null ? `${s.name} (retired)` : (segName.get(id) ?? id);
  };
  const results: TargetResult[] = [];
  let anyFailed = false;
  const only = opts.customers ? new Set(opts.customers) : undefined;

  for (const target of targets) {
    const conn = config.connectors.find((c) => c.name === target.connector);
    const targetSchema = conn ? registry.spec(conn.type)?.targetSchema : undefined;
    if (!conn || !targetSchema) throw new Error(`push target ${target.connector} has no writer (config validation should have caught this)`);
    const name = conn.name;
    let desired: DesiredRow[];
    let pushed: ReadonlyMap<string, { segmentId: string; customerId: string }>;
    if (only) {
      desired = store.push.desiredOf(name, model.id, [...only]);
      // a contact that moved to another customer (its email changed) is keyed by its record: keep both sides
      pushed = store.push.pushedOf(name, [...only], desired.map((d) => d.externalId));
    } else {
      desired = [...store.push.desired(name, model.id)];
      pushed = store.push.pushed(name);
    }
    const diff = diffMemberships(desired, pushed);
    const result: TargetResult = {
      target: name,
      adds: diff.adds,
      removes: diff.removes,
      written: 0,
      failed: 0,
      rejected: 0,
      segments: [...diff.bySegment].map(([id, c]) => ({ segmentId: id, name: segName.get(id) ?? id, ...c })).sort((a, b) => a.name.localeCompare(b.name)),
      errors: [],
      rejections: [],
    };
    results.push(result);
    // a renamed or retired segment changes the target even when no membership moves
    const listNames = store.push.listNames(name);
    const renamed = segments.some((s) => listNames[s.id] !== undefined && listNames[s.id] !== retiredName(s.id));
    if (opts.dryRun || held || (diff.ops.length === 0 && !renamed)) {
      // nothing left to send, so no record rejected before is wanted any more
      if (!opts.dryRun && !held && !only) store.push.settleRejected(name);
      continue;
    }

    // only a push that writes loads the connector (and its SDK): a dry run or a held push plans with the spec alone
    const writer = (await registry.load(conn.type)).writer;
    if (!writer) throw new Error(`push target ${target.connector} has no writer (config validation should have caught this)`);
    const log = deps.logger.child({ target: name });
    store.push.planOutbox(opts.runId, name, diff.ops);
    const ctx: WriterContext<unknown> = {
      name,
      config: conn.settings,
      logger: log,
      signal: opts.signal,
      retry: deps.retry,
      baseDir: config.baseDir,
      target: targetSchema.parse(target),
    };
    const refs: SegmentRef[] = segments.map((s) => {
      const ref: SegmentRef = { id: s.id, name: s.name, description: s.description, retired: s.retiredAt !== null };
      const before = listNames[s.id];
      if (before !== undefined && before !== retiredName(s.id)) ref.previousName = before;
      return ref;
    });
    const listIds = await writer.prepare(ctx, refs, store.push.lists(name));
    store.push.putLists(name, Object.fromEntries(Object.entries(listIds).map(([seg, id]) => [seg, { listId: id, name: retiredName(seg) }])));

    const email = new Map(desired.map((d) => [d.externalId, d.email ?? undefined]));
    const deferred: Ack[] = [];
    const task = deps.progress.start(`push ${name}`, diff.ops.length, 'ops');
    let done = 0;
    try {
      for (let after = 0; ; ) {
        if (opts.signal.aborted) break;
        const batch = store.push.pendingBatch(name, after, writer.maxBatch);
        if (batch.length === 0) break;
        after = (batch[batch.length - 1] as { id: number }).id;
        const ops: MembershipOp[] = batch.map((o) => {
          const op: MembershipOp = {
            key: String(o.id),
            op: o.op,
            externalId: o.externalId,
            customerId: o.customerId,
            segmentId: o.segmentId,
            segmentName: segName.get(o.segmentId) ?? o.segmentId,
            listId: listIds[o.segmentId],
          };
          const e = email.get(o.externalId);
          if (e) op.email = e;
          return op;
        });
        const res = await writer.apply(ctx, ops);
        const byKey = new Map(res.map((r) => [r.key, r]));
        const acks: Ack[] = batch.map((o) => {
          const r = byKey.get(String(o.id));
          if (!r) return { id: o.id, ok: false, error: 'no result from writer' };
          return { id: o.id, ok: r.ok, ...(r.error ? { error: r.error } : {}), ...(!r.ok && r.permanent ? { permanent: true } : {}) };
        });
        batch.forEach((o, i) => {
          const a = acks[i] as Ack;
          if (a.ok) result.written++;
          else if (a.permanent) {
            result.rejected++;
            if (result.rejections.length < KEEP) result.rejections.push({ op: o.op, externalId: o.externalId, error: a.error ?? 'rejected' });
          } else {
            result.failed++;
            if (result.errors.length < KEEP) result.errors.push(a.error ?? 'failed');
          }
        });
        // snapshot writers publish at finish(): acknowledge only once the file is in place
        if (writer.finish) deferred.push(...acks);
        else store.push.ackBatch(name, acks, deps.now().toISOString());
        done += batch.length;
        task.update(done, diff.ops.length);
      }
      if (writer.finish && !opts.signal.aborted) {
        // a snapshot is the whole target's state, whatever part of it this push changed
        const everyone = only ? [...store.push.desired(name, model.id)] : desired;
        const snapshot: MembershipSnapshotRow[] = everyone.map((d) => ({
          customerId: d.customerId,
          externalId: d.externalId,
          email: d.email ?? undefined,
          segmentId: d.segmentId,
          segmentName: d.segmentName,
        }));
        await writer.finish(ctx, { snapshot });
        store.push.ackBatch(name, deferred, deps.now().toISOString());
      }
    } finally {
      task.stop();
    }
    if (result.failed) anyFailed = true;
    log.info({ adds: result.adds, removes: result.removes, written: result.written, failed: result.failed, rejected: result.rejected }, `pushed to ${name}`);
    if (result.rejected) {
      log.warn({ rejected: result.rejected, first: result.rejections.slice(0, 5) }, `${name} rejected ${result.rejected} records (deleted or unknown there); the rest was applied`);
    }
  }

  if (!opts.dryRun && !held && !anyFailed && !opts.signal.aborted && opts.connector === undefined && only === undefined) {
    store.models.setMeta('pushed_model_id', String(model.id));
  }
  return { modelId: model.id, held, churn, dryRun: opts.dryRun, targets: results };
}
