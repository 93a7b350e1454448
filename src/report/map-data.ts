/**
 * The segment map's data: the snapshot the segment step saved with the model
 * (snapshot.ts), or else one computed here — a seeded sample of the model's
 * clustered customers, their features rebuilt with the model's feature spec
 * and transformed with its saved scaler, projected on two principal axes —
 * then density contours and labels.
 */
import type { Store } from '../store/index.js';
import type { ModelRecord } from '../store/models-repo.js';
import { buildFeatures } from '../features/build.js';
import { applyPrep, prepColumns } from '../features/prep.js';
import { parseFeatureSpec, parsePrep } from '../features/saved.js';
import { createRng } from '../ml/random.js';
import { DEFAULT_SAMPLE, MAP_SNAPSHOT_KEY, mapSnapshot, parseSnapshot, type MapSnapshot } from './snapshot.js';
import { sampleAggregates, type ScanOptions } from './scan.js';
import { densityContours } from './contours.js';
import { featureLabel, pct } from './format.js';
import type { ContourPoint, MapAxis, MapPoint, ReportSegment, SegmentMapData } from './types.js';

export { DEFAULT_SAMPLE };
const MASSES = [0.5, 0.9] as const;

/**
 * A seeded uniform sample of at most m of the model's members outside `except`:
 * slots are drawn without replacement (a lazy Fisher-Yates shuffle) and looked
 * up one by one, so the cost follows the sample, not the customer count.
 */
function sampleMembers(store: Store, modelId: number, m: number, seed: number, except: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const slots = store.report.memberSlots(modelId);
  if (!slots || m <= 0) return out;
  const span = slots.last - slots.first + 1;
  const rng = createRng(seed);
  const swapped = new Map<number, number>();
  for (let i = 0; i < span && out.size < m; i++) {
    const j = i + rng.int(span - i);
    const pick = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    const row = store.report.memberAt(modelId, slots.first + pick);
    if (row && !except.has(row[1])) out.set(row[0], row[1]);
  }
  return out;
}

export interface Clock {
  /** runs f and records its wall and CPU time under `step` */
  timed<T>(step: string, f: () => T): T;
  /** records a step measured by the caller */
  record(step: string, wallMs: number, cpuMs: number): void;
}

const noClock: Clock = { timed: (_, f) => f(), record: () => undefined };

export async function segmentMapData(
  store: Store,
  model: ModelRecord,
  segments: readonly ReportSegment[],
  sampleSize: number,
  seed: number,
  clock: Clock = noClock,
  scan: ScanOptions = {},
): Promise<SegmentMapData | null> {
  const clustered = segments.filter((s) => !s.fixed);
  if (clustered.length === 0) return null;
  // saved by the segment step with this model: no pass over the store at all
  const parsed = parseSnapshot(store.models.getMeta(MAP_SNAPSHOT_KEY), model.id);
  // not when the caller asks for a smaller sample than the one saved
  const saved = parsed && parsed.x.length <= sampleSize ? parsed : undefined;
  clock.record('mapSaved', saved ? 1 : 0, 0);
  const snap = saved ?? (await computeSnapshot(store, model, segments, sampleSize, seed, clock, scan));
  return snap ? fromSnapshot(snap, segments) : null;
}

/** The snapshot from the store: a seeded sample of members, their features rebuilt and scaled as the model did. */
async function computeSnapshot(
  store: Store,
  model: ModelRecord,
  segments: readonly ReportSegment[],
  sampleSize: number,
  seed: number,
  clock: Clock,
  scan: ScanOptions,
): Promise<MapSnapshot | null> {
  const fixedIds = segments.filter((s) => s.fixed).map((s) => s.id);
  const sizes = store.models.segmentSizes(model.id);
  let population = 0;
  for (const [id, n] of sizes) if (!fixedIds.includes(id)) population += n;
  if (population === 0) return null;
  const m = Math.min(sampleSize, population);
  const segmentOf = clock.timed('mapSample', () => sampleMembers(store, model.id, m, seed, new Set(fixedIds)));

  const spec = parseFeatureSpec(model.featureSpec, model.id);
  const prep = parsePrep(model.scaler, spec, model.id);
  // the one step whose cost grows with the store: a scan of the transactions table, maybe on several threads
  const ids = [...segmentOf.keys()];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { rows, threads } = await sampleAggregates(store, ids, scan);
  const repo = store.report.featuresFor(ids);
  const fm = buildFeatures(
    {
      ...repo,
      *wonAggregates() {
        yield* rows;
      },
    },
    spec,
  );
  const c = process.cpuUsage(c0);
  clock.record('mapFeatures', performance.now() - t0, (c.user + c.system) / 1000);
  clock.record('mapThreads', threads, 0);
  const X = applyPrep(prep, fm);
  const columns = prepColumns(prep);
  // every row is already the sample: keep them all
  const snap = mapSnapshot(X, fm.n, columns.length, (i) => segmentOf.get(fm.customerIds[i] as string) ?? null, columns, { modelId: model.id, seed, sampleSize: fm.n });
  return { ...snap, population };
}

/** Points, contours, labels and axes for the chart, from a snapshot; segments no longer live are left out. */
function fromSnapshot(snap: MapSnapshot, segments: readonly ReportSegment[]): SegmentMapData | null {
  const clustered = segments.filter((s) => !s.fixed);
  const labelOf = new Map(clustered.map((s) => [s.id, s.label]));
  const groupOf = new Map(clustered.map((s, i) => [s.id, i]));
  const n = snap.x.length;
  const points: MapPoint[] = [];
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const groups = new Int32Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const seg = snap.segment[i] as string;
    const g = groupOf.get(seg);
    if (g === undefined) continue;
    const x = snap.x[i] as number;
    const y = snap.y[i] as number;
    points.push({ x, y, segment: labelOf.get(seg) as string });
    xs[kept] = x;
    ys[kept] = y;
    groups[kept] = g;
    kept++;
  }
  if (kept === 0) return null;

  const contours: ContourPoint[] = [];
  const ext = extent(xs.subarray(0, kept), ys.subarray(0, kept));
  let line = 0;
  for (const c of densityContours(xs.subarray(0, kept), ys.subarray(0, kept), groups.subarray(0, kept), { extent: ext, masses: MASSES })) {
    const segment = (clustered[c.group] as ReportSegment).label;
    for (const l of c.lines) {
      l.forEach(([x, y], order) => contours.push({ segment, level: pct(c.mass, 0), line, order, x: round(x), y: round(y) }));
      line++;
    }
  }

  const centers: MapPoint[] = [];
  clustered.forEach((s, g) => {
    let sx = 0;
    let sy = 0;
    let k = 0;
    for (let i = 0; i < kept; i++) {
      if (groups[i] !== g) continue;
      sx += xs[i] as number;
      sy += ys[i] as number;
      k++;
    }
    if (k) centers.push({ x: round(sx / k), y: round(sy / k), segment: s.label });
  });

  const axes = [0, 1].map((a): MapAxis => {
    const explained = snap.explained[a as 0 | 1];
    return { explained, title: `Axis ${a + 1} · ${pct(explained, 0)} of the variation`, meaning: axisMeaning(snap.loadings[a as 0 | 1], snap.columns) };
  }) as [MapAxis, MapAxis];
  return { points, contours, centers, axes, population: snap.population, seed: snap.seed };
}

/** What a higher value on an axis means: its largest loadings, e.g. "more orders, less days since last purchase". */
function axisMeaning(loadings: ArrayLike<number>, columns: readonly string[]): string {
  return columns
    .map((c, j) => ({ c, l: (loadings[j] as number | undefined) ?? 0 }))
    .filter((t) => Math.abs(t.l) >= 0.3)
    .sort((p, q) => Math.abs(q.l) - Math.abs(p.l))
    .slice(0, 2)
    .map((t) => `${t.l > 0 ? 'more' : 'less'} ${featureLabel(t.c).toLowerCase()}`)
    .join(', ');
}

function extent(xs: Float64Array, ys: Float64Array): [number, number, number, number] {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    x0 = Math.min(x0, xs[i] as number);
    x1 = Math.max(x1, xs[i] as number);
    y0 = Math.min(y0, ys[i] as number);
    y1 = Math.max(y1, ys[i] as number);
  }
  const px = (x1 - x0 || 1) * 0.1;
  const py = (y1 - y0 || 1) * 0.1;
  return [x0 - px, x1 + px, y0 - py, y1 + py];
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
