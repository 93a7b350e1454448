/** Gathers everything the report shows from the store, through its repo functions only. */
import type { Store } from '../store/index.js';
import type { QuarantineGroup } from '../store/status-repo.js';
import type { SegmentMove } from '../store/report-repo.js';
import type { ModelRecord, SegmentRecord } from '../store/models-repo.js';
import type { FeatureSpec } from '../features/build.js';
import { featureLabel } from './format.js';
import { FIXED_COLOR, segmentColor } from './palette.js';
import { DEFAULT_SAMPLE, segmentMapData } from './map-data.js';
import { layoutDendrogram, readMergeTree } from './dendrogram.js';
import type {
  CandidateRow,
  DendrogramData,
  Distinction,
  FeatureInfo,
  MovesData,
  QualityData,
  ReportData,
  ReportModel,
  ReportOptions,
  ReportSegment,
  SegmentPush,
} from './types.js';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const rec = (v: unknown): Record<string, number> => {
  const out: Record<string, number> = {};
  if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) if (typeof x === 'number') out[k] = x;
  return out;
};

export async function gatherReportData(store: Store, opts: ReportOptions = {}): Promise<ReportData> {
  const timings: Record<string, number> = {};
  const record = (name: string, wallMs: number, cpuMs: number): void => {
    timings[name] = Math.round(wallMs);
    if (cpuMs) timings[`${name}Cpu`] = Math.round(cpuMs);
  };
  const timed = <T>(name: string, f: () => T): T => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    try {
      return f();
    } finally {
      const c = process.cpuUsage(c0);
      record(name, performance.now() - t0, (c.user + c.system) / 1000);
    }
  };
  const model = store.models.activeModel();
  const notes: string[] = [];
  const quality = timed('quality', (): QualityData => {
    const groups = quarantineCategories(store.status.quarantineGroups());
    return { groups, quarantined: groups.reduce((a, g) => a + g.count, 0), lastSync: lastSync(store), missing: model ? rec(model.metrics.missing) : {} };
  });
  const base: ReportData = {
    title: opts.title ?? 'Customer segments',
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    storeFile: store.file,
    model: null,
    segments: [],
    features: [],
    candidates: [],
    map: null,
    moves: null,
    dendrogram: null,
    quality,
    notes,
    timings,
  };
  if (!model) {
    notes.push('There is no segmentation model yet: run `segsync segment` (or `segsync run`), then write the report again.');
    return base;
  }
  const columns = ((model.featureSpec as Partial<FeatureSpec> | null)?.columns ?? []).filter((c): c is string => typeof c === 'string');
  const segments = timed('segments', () => reportSegments(store, model, columns, opts.connectorTypes ?? {}));
  const features = featureInfo(segments, columns);
  for (const s of segments) s.distinctions = distinctions(s, features);

  const seed = opts.seed ?? num(model.params.seed) ?? 42;
  let map = null;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    map = await segmentMapData(store, model, segments, opts.sampleSize ?? DEFAULT_SAMPLE, seed, { timed, record }, opts.scan);
  } catch (e) {
    notes.push(`The segment map could not be drawn: ${e instanceof Error ? e.message : String(e)}`);
  }
  const c = process.cpuUsage(c0);
  record('map', performance.now() - t0, (c.user + c.system) / 1000);

  return {
    ...base,
    model: reportModel(model, segments),
    segments,
    features,
    candidates: candidates(model),
    map,
    moves: timed('moves', () => moves(store, model, segments)),
    dendrogram: safeDendrogram(model, segments, notes),
  };
}

function reportModel(model: ModelRecord, segments: readonly ReportSegment[]): ReportModel {
  return {
    id: model.id,
    algorithm: model.algorithm,
    createdAt: model.createdAt,
    k: num(model.params.k) ?? segments.filter((s) => !s.fixed).length,
    silhouette: num(model.metrics.silhouette),
    daviesBouldin: num(model.metrics.daviesBouldin),
    calinskiHarabasz: num(model.metrics.calinskiHarabasz),
    churn: num(model.metrics.churn),
  };
}

const TARGET_KINDS: Record<string, string> = { hubspot: 'HubSpot list', salesforce: 'Salesforce campaign', csv: 'memberships file' };

function reportSegments(store: Store, model: ModelRecord, columns: readonly string[], connectorTypes: Record<string, string>): ReportSegment[] {
  const live = store.models.segments().filter((s) => s.modelId === model.id);
  const sizes = store.models.segmentSizes(model.id);
  const lists = store.report.targetLists();
  const history = pushHistory(store);
  const isFixed = (s: SegmentRecord): boolean => s.profile.fixed === true || Object.keys(rec(s.profile.z)).length === 0;
  const ordered = [...live].sort((a, b) => Number(isFixed(a)) - Number(isFixed(b)) || (sizes.get(b.id) ?? 0) - (sizes.get(a.id) ?? 0) || a.id.localeCompare(b.id));
  const nameCount = new Map<string, number>();
  for (const s of ordered) nameCount.set(s.name, (nameCount.get(s.name) ?? 0) + 1);
  let color = 0;
  return ordered.map((s): ReportSegment => {
    const fixed = isFixed(s);
    const targets = new Set([...lists.filter((l) => l.segmentId === s.id).map((l) => l.target), ...history.filter((e) => e.segments.has(s.id)).map((e) => e.target)]);
    const pushes = [...targets].sort().map((target): SegmentPush => {
      const list = lists.find((l) => l.target === target && l.segmentId === s.id);
      const last = history.find((e) => e.target === target);
      const change = history.find((e) => e.target === target && (e.segments.get(s.id)?.adds ?? 0) + (e.segments.get(s.id)?.removes ?? 0) > 0);
      return {
        target,
        kind: TARGET_KINDS[connectorTypes[target] ?? ''] ?? 'push target',
        listId: list?.listId ?? null,
        listName: list?.name ?? null,
        lastPushedAt: last?.at ?? null,
        lastPushFailed: last?.failed ?? 0,
        lastChangedAt: change?.at ?? null,
        changedInLastPush: change !== undefined && change === last,
        adds: change?.segments.get(s.id)?.adds ?? 0,
        removes: change?.segments.get(s.id)?.removes ?? 0,
      };
    });
    const z = rec(s.profile.z);
    return {
      id: s.id,
      name: s.name,
      label: (nameCount.get(s.name) ?? 0) > 1 ? `${s.name} (${s.id})` : s.name,
      description: s.description,
      size: sizes.get(s.id) ?? num(s.profile.size) ?? 0,
      share: num(s.profile.share) ?? 0,
      revenueShare: num(s.profile.revenueShare) ?? 0,
      means: rec(s.profile.means),
      z: Object.fromEntries(columns.filter((c) => c in z).map((c) => [c, z[c] as number])),
      fixed,
      color: fixed ? FIXED_COLOR : segmentColor(color++),
      distinctions: [],
      pushes,
    };
  });
}

function featureInfo(segments: readonly ReportSegment[], columns: readonly string[]): FeatureInfo[] {
  return columns.map((key) => {
    let s = 0;
    let n = 0;
    for (const seg of segments) {
      const m = seg.means[key];
      if (seg.fixed || m === undefined || !Number.isFinite(m)) continue;
      s += m * seg.size;
      n += seg.size;
    }
    return { key, label: featureLabel(key), overall: n ? s / n : NaN };
  });
}

/** The features that set a segment apart: the largest standardized differences. */
function distinctions(s: ReportSegment, features: readonly FeatureInfo[]): Distinction[] {
  const all = features
    .filter((f) => s.z[f.key] !== undefined)
    .map((f) => ({ feature: f.key, label: f.label, z: s.z[f.key] as number, mean: s.means[f.key] ?? NaN, overall: f.overall }))
    .sort((a, b) => Math.abs(b.z) - Math.abs(a.z));
  const strong = all.filter((d) => Math.abs(d.z) >= 0.25).slice(0, 3);
  return strong.length ? strong : all.slice(0, 1);
}

function candidates(model: ModelRecord): CandidateRow[] {
  const out: CandidateRow[] = [];
  for (const c of model.candidates) {
    if (typeof c !== 'object' || c === null) continue;
    const r = c as Record<string, unknown>;
    const k = num(r.k);
    const sil = num(r.silhouette);
    const db = num(r.daviesBouldin);
    const ch = num(r.calinskiHarabasz);
    if (k === null || sil === null || db === null || ch === null) continue;
    const params = typeof r.params === 'object' && r.params !== null ? (r.params as Record<string, unknown>) : {};
    const v = r.linkage ?? params.linkage ?? r.covariance ?? params.covariance;
    const variant = typeof v === 'string' ? ` (${v})` : '';
    out.push({
      algorithm: `${typeof r.algorithm === 'string' ? r.algorithm : model.algorithm}${variant}`,
      k,
      silhouette: sil,
      daviesBouldin: db,
      calinskiHarabasz: ch,
      minShare: num(r.minShare),
      stability: num(r.stability),
      eligible: r.eligible !== false,
      chosen: r.chosen === true,
    });
  }
  return out.sort((a, b) => a.algorithm.localeCompare(b.algorithm) || a.k - b.k);
}

function moves(store: Store, model: ModelRecord, segments: readonly ReportSegment[]): MovesData | null {
  const prevId = store.report.previousModelId(model.id);
  if (prevId === undefined) return null;
  const prev = store.models.model(prevId);
  // the matrix saved with the model when the segment step keeps it; else one join of the two models' memberships
  const raw = savedMoves(model.metrics.moves) ?? store.report.segmentMoves(prevId, model.id);
  // one label per segment id: a retired segment may carry the name a live one has now
  const label = new Map(segments.map((s) => [s.id, s.label]));
  const taken = new Set(label.values());
  const retired = new Map(store.models.segments({ includeRetired: true }).map((s) => [s.id, s.name]));
  for (const id of new Set(raw.flatMap((r) => [r.fromSegmentId, r.toSegmentId]))) {
    if (label.has(id)) continue;
    const name = retired.get(id) ?? id;
    const l = taken.has(name) ? `${name} (retired ${id})` : name;
    label.set(id, l);
    taken.add(l);
  }
  const pos = new Map(segments.map((s, i) => [s.id, i]));
  const order = (ids: Iterable<string>): string[] =>
    [...new Set(ids)].sort((a, b) => (pos.get(a) ?? 1e9) - (pos.get(b) ?? 1e9) || a.localeCompare(b)).map((id) => label.get(id) as string);
  const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const both = raw.reduce((a, r) => a + r.count, 0);
  return {
    previousModelId: prevId,
    previousCreatedAt: prev?.createdAt ?? null,
    fromLabels: order(raw.map((r) => r.fromSegmentId)),
    toLabels: order(raw.map((r) => r.toSegmentId)),
    rows: raw.map((r) => ({ from: label.get(r.fromSegmentId) as string, to: label.get(r.toSegmentId) as string, count: r.count })),
    both,
    moved: raw.reduce((a, r) => a + (r.fromSegmentId === r.toSegmentId ? 0 : r.count), 0),
    entered: sum(store.models.segmentSizes(model.id)) - both,
    left: sum(store.models.segmentSizes(prevId)) - both,
    churn: num(model.metrics.churn),
  };
}

/** The dendrogram, or a note saying why a saved merge tree could not be drawn (the rest of the report still is). */
function safeDendrogram(model: ModelRecord, segments: readonly ReportSegment[], notes: string[]): DendrogramData | null {
  try {
    return dendrogram(model, segments);
  } catch (e) {
    notes.push(`The merge tree could not be drawn: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** A from -> to matrix saved in the model's metrics: [{ from, to, count }] with segment ids. */
function savedMoves(v: unknown): SegmentMove[] | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const out: SegmentMove[] = [];
  for (const r of v as Record<string, unknown>[]) {
    const from = r.from ?? r.fromSegmentId;
    const to = r.to ?? r.toSegmentId;
    if (typeof from !== 'string' || typeof to !== 'string' || typeof r.count !== 'number') return null;
    out.push({ fromSegmentId: from, toSegmentId: to, count: r.count });
  }
  return out;
}

function dendrogram(model: ModelRecord, segments: readonly ReportSegment[]): DendrogramData | null {
  const tree = readMergeTree(model.centroids, model.params);
  if (!tree) return null;
  const clustered = segments.filter((s) => !s.fixed);
  const k = num(model.params.k) ?? clustered.length;
  const lay = layoutDendrogram(tree, k);
  const byId = new Map(segments.map((s) => [s.id, s.label]));
  // cut clusters -> segments through the saved segment ids, when they match this model's segments
  const ids = tree.segmentIds;
  const mapped = ids !== null && ids.length === lay.k && ids.every((id) => byId.has(id));
  const name = (c: number): string => (c < 0 ? '' : mapped ? (byId.get((ids as string[])[c] as string) as string) : `cluster ${c + 1}`);
  return {
    linkage: tree.linkage,
    links: lay.links.map((l) => ({ x: l.x, x2: l.x2, y: l.y, y2: l.y2, segment: name(l.cluster) })),
    leaves: lay.leaves.map((l) => ({ x: l.x, size: l.size, segment: name(l.cluster) })),
    cut: lay.cut,
    k: lay.k,
    treeLeaves: tree.m,
  };
}

/**
 * Quarantine reasons as categories a person can read: ids and numbers in a
 * reason ("contact c123 not found") become "…", so one bad id is not one bar;
 * past the 11 largest, the rest are summed as "other reasons".
 */
export function quarantineCategories(groups: readonly QuarantineGroup[], max = 12): QuarantineGroup[] {
  const cat = (r: string): string => {
    const c = r.replace(/\S*\d\S*/g, '…').replace(/(…\s*)+/g, '… ').replace(/\s+/g, ' ').trim();
    return c.length > 80 ? `${c.slice(0, 79)}…` : c || 'unknown';
  };
  const merged = new Map<string, QuarantineGroup>();
  for (const g of groups) {
    const reason = cat(g.reason);
    const key = `${g.connector}\u0000${g.stream}\u0000${reason}`;
    const m = merged.get(key);
    if (m) m.count += g.count;
    else merged.set(key, { connector: g.connector, stream: g.stream, reason, count: g.count });
  }
  const totals = new Map<string, number>();
  for (const g of merged.values()) totals.set(g.reason, (totals.get(g.reason) ?? 0) + g.count);
  const keep = new Set([...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, totals.size > max ? max - 1 : max).map(([r]) => r));
  const out = new Map<string, QuarantineGroup>();
  for (const g of merged.values()) {
    const reason = keep.has(g.reason) ? g.reason : 'other reasons';
    const key = `${g.connector}\u0000${g.stream}\u0000${reason}`;
    const m = out.get(key);
    if (m) m.count += g.count;
    else out.set(key, { ...g, reason });
  }
  return [...out.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** The latest sync, alone or inside a run, from its run record's counts. */
function lastSync(store: Store): QualityData['lastSync'] {
  for (const r of store.runs.list(50)) {
    const c = (r.kind === 'run' ? r.counts.sync : r.kind === 'sync' ? r.counts : undefined) as Record<string, unknown> | undefined;
    if (!c || typeof c.read !== 'number') continue;
    const streams = Array.isArray(c.streams) ? (c.streams as Record<string, unknown>[]) : [];
    return {
      runId: r.id,
      at: r.finishedAt ?? r.startedAt,
      read: c.read,
      quarantined: num(c.quarantined) ?? 0,
      streams: streams
        .filter((s) => typeof s.connector === 'string' && typeof s.stream === 'string')
        .map((s) => ({ connector: s.connector as string, stream: s.stream as string, read: num(s.read) ?? 0, quarantined: num(s.quarantined) ?? 0 })),
    };
  }
  return null;
}

interface PushEvent {
  at: string;
  target: string;
  failed: number;
  /** segment id -> what this push changed in its list */
  segments: Map<string, { adds: number; removes: number }>;
}

/**
 * Pushes that wrote to a target, newest first, from the run records (push,
 * or the push step of run): a read of the runs table, where the pushed table
 * would need a scan of one row per CRM record. Dry runs and held pushes wrote nothing.
 */
function pushHistory(store: Store, limit = 500): PushEvent[] {
  const out: PushEvent[] = [];
  for (const r of store.runs.list(limit)) {
    if (r.status === 'running' || r.status === 'skipped' || r.status === 'held') continue;
    const c = (r.kind === 'push' ? r.counts : r.kind === 'run' ? r.counts.push : undefined) as Record<string, unknown> | undefined;
    if (!c || c.dryRun === true || c.held === true || !Array.isArray(c.targets)) continue;
    for (const t of c.targets as Record<string, unknown>[]) {
      if (typeof t.target !== 'string') continue;
      const segments = new Map<string, { adds: number; removes: number }>();
      for (const sp of Array.isArray(t.segments) ? (t.segments as Record<string, unknown>[]) : []) {
        if (typeof sp.segmentId === 'string') segments.set(sp.segmentId, { adds: num(sp.adds) ?? 0, removes: num(sp.removes) ?? 0 });
      }
      out.push({ at: r.finishedAt ?? r.startedAt, target: t.target, failed: num(t.failed) ?? 0, segments });
    }
  }
  return out;
}
