/**
 * What the admin API answers, built from the store, the runner and the
 * scheduler. Status and the push plan are cached briefly: the dashboard polls
 * them and a load of concurrent readers must not turn into as many table scans.
 */
import type { JobContext } from '../jobs/context.js';
import { runPush, type PushResult } from '../push/engine.js';
import type { RunKind, RunRecord } from '../store/runs-repo.js';
import type { QuarantineGroup, StoreCounts } from '../store/status-repo.js';
import type { JobRunner, LeaseHolder } from '../schedule/runner.js';
import type { Scheduler, ScheduledJob } from '../schedule/scheduler.js';
import { renderReportSections, reportOptionsFor, type ReportSection } from '../report/index.js';
import { HttpError } from './http-error.js';

export type BaseContext = Omit<JobContext, 'trigger' | 'signal'>;

export interface ViewDeps {
  ctx: BaseContext;
  runner: JobRunner;
  scheduler: Scheduler | undefined;
  /** How long a status answer may be reused (ms). */
  statusTtlMs?: number;
}

export interface StreamView {
  stream: string;
  lastSyncAt: string;
  complete: boolean;
  cursor: unknown;
}

export interface ConnectorView {
  name: string;
  type: string;
  /** the newest page committed by any of its streams */
  lastSyncAt: string | null;
  streams: StreamView[];
  /** it has a writer and is a push target */
  pushTarget: boolean;
}

export interface RunSummary {
  id: number;
  status: string;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
}

export interface StatusView {
  now: string;
  counts: StoreCounts;
  connectors: ConnectorView[];
  /** quarantined records: the total and the largest reason groups */
  quarantine: { total: number; reasons: QuarantineGroup[]; moreReasons: number };
  model: { id: number; algorithm: string; k: unknown; createdAt: string; metrics: Record<string, unknown> } | null;
  running: LeaseHolder | null;
  lastRuns: Record<'sync' | 'segment' | 'push', RunSummary | null>;
  schedule: { timezone: string | undefined; jobs: ScheduledJob[] } | null;
}

export interface SegmentView {
  id: string;
  name: string;
  size: number;
  share: number;
  revenueShare: number;
  description: string;
  profile: Record<string, unknown>;
}

export interface PlanView {
  modelId: number;
  churn: number | null;
  maxChurn: number;
  held: boolean;
  /** the newest push run, when it ended held (its plan is this one until something changes) */
  heldRun: RunSummary | null;
  lastPush: RunSummary | null;
  adds: number;
  removes: number;
  targets: { target: string; adds: number; removes: number; segments: { segmentId: string; name: string; adds: number; removes: number }[] }[];
}

/** The report's charts for the dashboard; `key` changes when a run finishes or the model changes. */
export interface ReportView {
  key: string;
  modelId: number | null;
  sections: ReportSection[];
}

/** Reason groups listed in the status (a reason that names a record is a group of its own). */
const QUARANTINE_REASONS = 20;

const summary = (r: RunRecord | undefined): RunSummary | null =>
  r ? { id: r.id, status: r.status, trigger: r.trigger, startedAt: r.startedAt, finishedAt: r.finishedAt } : null;

export class Views {
  private readonly ctx: BaseContext;
  private readonly runner: JobRunner;
  private readonly scheduler: Scheduler | undefined;
  private readonly statusTtlMs: number;
  private statusCache: { at: number; value: StatusView } | undefined;
  private countsCache: { key: string; at: number; value: StoreCounts } | undefined;
  private planCache: { key: string; value: PlanView } | undefined;
  private reportCache: { key: string; value: Promise<ReportView> } | undefined;

  constructor(d: ViewDeps) {
    this.ctx = d.ctx;
    this.runner = d.runner;
    this.scheduler = d.scheduler;
    this.statusTtlMs = d.statusTtlMs ?? 1_000;
    this.runner.onFinished(() => this.invalidate());
  }

  invalidate(): void {
    this.statusCache = undefined;
  }

  status(): StatusView {
    const now = Date.now();
    // the lease is one row: always fresh; the rest may be up to statusTtlMs old
    if (this.statusCache && now - this.statusCache.at < this.statusTtlMs) return { ...this.statusCache.value, running: this.runner.holder() ?? null };
    const { store, config, registry } = this.ctx;
    const streams = store.status.streams();
    const targets = new Set(config.push.targets.map((t) => t.connector));
    const connectors: ConnectorView[] = config.connectors.map((c) => {
      const own = streams.filter((s) => s.connector === c.name);
      const last = own.reduce<string | null>((a, s) => (a === null || s.updatedAt > a ? s.updatedAt : a), null);
      return {
        name: c.name,
        type: c.type,
        lastSyncAt: last,
        streams: own.map((s) => ({
          stream: s.stream,
          lastSyncAt: s.updatedAt,
          complete: (s.cursor as { done?: unknown } | null)?.done !== false,
          cursor: s.cursor,
        })),
        pushTarget: targets.has(c.name) && registry.spec(c.type)?.targetSchema !== undefined,
      };
    });
    const model = store.models.activeModel();
    const last = (k: RunKind): RunSummary | null => summary(store.serve.lastRun(k));
    const value: StatusView = {
      now: new Date(now).toISOString(),
      counts: this.counts(),
      connectors,
      quarantine: this.quarantine(),
      model: model ? { id: model.id, algorithm: model.algorithm, k: model.params.k, createdAt: model.createdAt, metrics: model.metrics } : null,
      running: this.runner.holder() ?? null,
      lastRuns: { sync: last('sync'), segment: last('segment'), push: last('push') },
      schedule: this.scheduler ? { timezone: this.scheduler.timezone, jobs: this.scheduler.jobs() } : null,
    };
    this.statusCache = { at: now, value };
    return value;
  }

  private quarantine(): StatusView['quarantine'] {
    const groups = this.ctx.store.status.quarantineGroups();
    const reasons = groups.slice(0, QUARANTINE_REASONS);
    return { total: groups.reduce((a, g) => a + g.count, 0), reasons, moreReasons: groups.length - reasons.length };
  }

  /** Store counts scan whole tables: recomputed when a run started or finished, at most every 30 s while one runs. */
  private counts(): StoreCounts {
    const key = this.ctx.store.serve.runsVersion();
    const c = this.countsCache;
    const busy = this.runner.holder() !== undefined;
    if (c && c.key === key && (!busy || Date.now() - c.at < 30_000)) return c.value;
    const value = this.ctx.store.status.counts();
    this.countsCache = { key, at: Date.now(), value };
    return value;
  }

  segments(): { modelId: number | null; total: number; items: SegmentView[] } {
    const { store } = this.ctx;
    const model = store.models.activeModel();
    if (!model) return { modelId: null, total: 0, items: [] };
    const sizes = store.models.segmentSizes(model.id);
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    const items = store.models
      .segments()
      .filter((s) => sizes.has(s.id))
      .map((s) => {
        const size = sizes.get(s.id) ?? 0;
        const rs = (s.profile as { revenueShare?: unknown }).revenueShare;
        return {
          id: s.id,
          name: s.name,
          size,
          share: total ? size / total : 0,
          revenueShare: typeof rs === 'number' ? rs : 0,
          description: s.description,
          profile: s.profile,
        };
      })
      .sort((a, b) => b.size - a.size);
    return { modelId: model.id, total, items };
  }

  members(segmentId: string, after: string, limit: number) {
    const { store } = this.ctx;
    const model = store.models.activeModel();
    if (!model) throw new HttpError(404, 'NO_MODEL', 'there is no segmentation model yet: run a segment job first');
    const seg = store.models.segments({ includeRetired: true }).find((s) => s.id === segmentId);
    const total = store.serve.segmentMemberCount(model.id, segmentId);
    if (!seg || (total === 0 && seg.retiredAt !== null)) {
      throw new HttpError(404, 'SEGMENT_NOT_FOUND', `no segment "${segmentId}" in the active model`, { field: 'id', in: 'params' });
    }
    const items = store.serve.segmentMembers(model.id, segmentId, after, limit);
    const lastItem = items[items.length - 1];
    return {
      segment: { id: seg.id, name: seg.name },
      modelId: model.id,
      total,
      limit,
      items,
      next: items.length === limit && lastItem ? lastItem.customerId : null,
    };
  }

  runDetail(id: number) {
    const { store } = this.ctx;
    const run = store.runs.get(id);
    if (!run) throw new HttpError(404, 'RUN_NOT_FOUND', `no run #${id}`, { field: 'id', in: 'params' });
    const modelId = store.serve.modelIdOfRun(id);
    const model = modelId !== undefined ? store.models.model(modelId) : undefined;
    return {
      run,
      quarantine: { groups: store.status.quarantineGroups(id), first: store.status.quarantine(id, 20) },
      model: model
        ? { id: model.id, algorithm: model.algorithm, status: model.status, params: model.params, metrics: model.metrics, candidates: model.candidates }
        : null,
    };
  }

  /** The plan a push would carry out now (a dry run: nothing is written). */
  async plan(): Promise<PlanView> {
    const { store, config } = this.ctx;
    const model = store.models.activeModel();
    if (!model) throw new HttpError(404, 'NO_MODEL', 'there is no segmentation model to push yet: run a segment job first');
    if (config.push.targets.length === 0) throw new HttpError(404, 'NO_TARGETS', 'push.targets is empty in the config: nothing to push to');
    const key = `${model.id}:${store.serve.runsVersion()}:${store.models.getMeta('pushed_model_id') ?? ''}`;
    if (this.planCache?.key === key) return this.planCache.value;
    const r: PushResult = await runPush(this.ctx, { runId: 0, dryRun: true, approve: false, signal: new AbortController().signal });
    const lastPush = store.serve.lastRun('push');
    const value: PlanView = {
      modelId: r.modelId,
      churn: r.churn,
      maxChurn: config.push.maxChurn,
      held: r.held,
      heldRun: lastPush?.status === 'held' ? summary(lastPush) : null,
      lastPush: summary(lastPush),
      adds: r.targets.reduce((a, t) => a + t.adds, 0),
      removes: r.targets.reduce((a, t) => a + t.removes, 0),
      targets: r.targets.map((t) => ({ target: t.target, adds: t.adds, removes: t.removes, segments: t.segments })),
    };
    this.planCache = { key, value };
    return value;
  }

  /**
   * The report sections, rendered once per store version: a render reads the
   * whole store (seconds at a million customers), so concurrent and repeated
   * requests share one. `known` is the key the caller already has.
   */
  async report(known?: string): Promise<ReportView | { key: string; unchanged: true }> {
    const { store, config, now } = this.ctx;
    const model = store.models.activeModel();
    const key = `${model?.id ?? 0}:${store.serve.runsVersion()}`;
    if (known === key) return { key, unchanged: true };
    if (this.reportCache?.key !== key) {
      const value = renderReportSections(store, reportOptionsFor(config, now)).then((sections) => ({ key, modelId: model?.id ?? null, sections }));
      // a failed render is not cached: the next request tries again
      value.catch(() => {
        if (this.reportCache?.value === value) this.reportCache = undefined;
      });
      this.reportCache = { key, value };
    }
    return this.reportCache.value;
  }
}
