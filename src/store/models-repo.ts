/** Models, segments and memberships. A new model and its memberships land in one transaction. */
import type { Db } from './open.js';

export interface ModelRecord {
  id: number;
  runId: number | null;
  createdAt: string;
  algorithm: string;
  params: Record<string, unknown>;
  featureSpec: unknown;
  scaler: unknown;
  centroids: unknown;
  metrics: Record<string, unknown>;
  candidates: unknown[];
  status: 'active' | 'retired';
}

export interface SegmentRecord {
  id: string;
  name: string;
  description: string;
  profile: Record<string, unknown>;
  modelId: number | null;
  createdAt: string;
  retiredAt: string | null;
}

export interface MembershipRow {
  customerId: string;
  segmentId: string;
  confidence: number | null;
  distance: number | null;
}

interface ModelRow {
  id: number;
  run_id: number | null;
  created_at: string;
  algorithm: string;
  params: string;
  feature_spec: string;
  scaler: string;
  centroids: string;
  metrics: string;
  candidates: string;
  status: 'active' | 'retired';
}
interface SegmentRow {
  id: string;
  name: string;
  description: string;
  profile: string;
  model_id: number | null;
  created_at: string;
  retired_at: string | null;
}

const toModel = (r: ModelRow): ModelRecord => ({
  id: r.id,
  runId: r.run_id,
  createdAt: r.created_at,
  algorithm: r.algorithm,
  params: JSON.parse(r.params) as Record<string, unknown>,
  featureSpec: JSON.parse(r.feature_spec) as unknown,
  scaler: JSON.parse(r.scaler) as unknown,
  centroids: JSON.parse(r.centroids) as unknown,
  metrics: JSON.parse(r.metrics) as Record<string, unknown>,
  candidates: JSON.parse(r.candidates) as unknown[],
  status: r.status,
});
const toSegment = (r: SegmentRow): SegmentRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  profile: JSON.parse(r.profile) as Record<string, unknown>,
  modelId: r.model_id,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
});

export type NewModel = Omit<ModelRecord, 'id' | 'status' | 'runId'> & { runId: number };

export interface NewSegment {
  id: string;
  name: string;
  description: string;
  profile: Record<string, unknown>;
}

export interface MembershipPatch {
  upsert: readonly MembershipRow[];
  /** customers that lose their membership */
  remove: readonly string[];
  /** segments the rows need, created (or brought back from retirement) when they are not live */
  segments?: readonly NewSegment[];
  now: string;
}

export function createModelsRepo(db: Db) {
  const active = db.prepare<[], ModelRow>("SELECT * FROM models WHERE status = 'active' ORDER BY id DESC LIMIT 1");
  const byId = db.prepare<[number], ModelRow>('SELECT * FROM models WHERE id = ?');
  const retireModels = db.prepare("UPDATE models SET status = 'retired' WHERE status = 'active'");
  const insModel = db.prepare(
    `INSERT INTO models (run_id, created_at, algorithm, params, feature_spec, scaler, centroids, metrics, candidates, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')`,
  );
  const upSegment = db.prepare(
    `INSERT INTO segments (id, name, description, profile, model_id, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, profile = excluded.profile,
       model_id = excluded.model_id, retired_at = NULL`,
  );
  const retireSegments = db.prepare('UPDATE segments SET retired_at = ? WHERE retired_at IS NULL AND (model_id IS NULL OR model_id <> ?)');
  const insMember = db.prepare('INSERT INTO memberships (customer_id, model_id, segment_id, confidence, distance) VALUES (?, ?, ?, ?, ?)');
  const segs = db.prepare<[], SegmentRow>('SELECT * FROM segments ORDER BY id');
  const liveSegs = db.prepare<[], SegmentRow>('SELECT * FROM segments WHERE retired_at IS NULL ORDER BY id');
  const members = db.prepare<[number], [string, string]>('SELECT customer_id, segment_id FROM memberships WHERE model_id = ?');
  const sizes = db.prepare<[number], { segment_id: string; n: number }>(
    'SELECT segment_id, COUNT(*) AS n FROM memberships WHERE model_id = ? GROUP BY segment_id',
  );

  const membersOf = db.prepare<[number, string], [string, string, number | null, number | null]>(
    'SELECT customer_id, segment_id, confidence, distance FROM memberships WHERE model_id = ? AND customer_id IN (SELECT value FROM json_each(?))',
  );
  const upMember = db.prepare(
    `INSERT INTO memberships (customer_id, model_id, segment_id, confidence, distance) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (customer_id, model_id) DO UPDATE SET segment_id = excluded.segment_id, confidence = excluded.confidence, distance = excluded.distance`,
  );
  const delMember = db.prepare('DELETE FROM memberships WHERE model_id = ? AND customer_id = ?');
  // a fixed segment the model did not need at training (no customer without a purchase then) appears, or comes back
  const ensureSegment = db.prepare(
    `INSERT INTO segments (id, name, description, profile, model_id, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, profile = excluded.profile,
       model_id = excluded.model_id, retired_at = NULL
     WHERE segments.retired_at IS NOT NULL`,
  );

  const patch = db.transaction((modelId: number, p: MembershipPatch): void => {
    for (const s of p.segments ?? []) ensureSegment.run(s.id, s.name, s.description, JSON.stringify(s.profile), modelId, p.now);
    for (const r of p.upsert) upMember.run(r.customerId, modelId, r.segmentId, r.confidence, r.distance);
    for (const c of p.remove) delMember.run(modelId, c);
  });

  const dirtyAll = db.prepare<[], string>('SELECT customer_id FROM dirty_customers ORDER BY customer_id').pluck();
  const clearAllDirty = db.prepare('DELETE FROM dirty_customers');
  const clearDirty = db.prepare('DELETE FROM dirty_customers WHERE customer_id IN (SELECT value FROM json_each(?))');
  const orphans = db
    .prepare<[number], string>(
      `SELECT m.customer_id FROM memberships m
        WHERE m.model_id = ? AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.customer_id = m.customer_id AND c.deleted_at IS NULL)
        ORDER BY m.customer_id`,
    )
    .pluck();

  const save = db.transaction((m: NewModel, segments: readonly NewSegment[], rows: Iterable<MembershipRow>): number => {
    retireModels.run();
    // the new model places every customer
    clearAllDirty.run();
    const id = Number(
      insModel.run(
        m.runId,
        m.createdAt,
        m.algorithm,
        JSON.stringify(m.params),
        JSON.stringify(m.featureSpec),
        JSON.stringify(m.scaler),
        JSON.stringify(m.centroids),
        JSON.stringify(m.metrics),
        JSON.stringify(m.candidates),
      ).lastInsertRowid,
    );
    for (const s of segments) upSegment.run(s.id, s.name, s.description, JSON.stringify(s.profile), id, m.createdAt);
    retireSegments.run(m.createdAt, id);
    for (const r of rows) insMember.run(r.customerId, id, r.segmentId, r.confidence, r.distance);
    return id;
  });

  return {
    activeModel(): ModelRecord | undefined {
      const r = active.get();
      return r ? toModel(r) : undefined;
    },
    model(id: number): ModelRecord | undefined {
      const r = byId.get(id);
      return r ? toModel(r) : undefined;
    },
    saveModel: (m: NewModel, segments: readonly NewSegment[], rows: Iterable<MembershipRow>): number => save.immediate(m, segments, rows),
    segments(opts: { includeRetired?: boolean } = {}): SegmentRecord[] {
      return (opts.includeRetired ? segs.all() : liveSegs.all()).map(toSegment);
    },
    /** customer id -> segment id for a model */
    memberships(modelId: number): Map<string, string> {
      const out = new Map<string, string>();
      for (const [c, s] of members.raw().iterate(modelId)) out.set(c, s);
      return out;
    },
    /** customer id -> membership, for some customers of a model */
    membershipsOf(modelId: number, customerIds: readonly string[]): Map<string, MembershipRow> {
      const out = new Map<string, MembershipRow>();
      for (const [customerId, segmentId, confidence, distance] of membersOf.raw().iterate(modelId, JSON.stringify(customerIds))) {
        out.set(customerId, { customerId, segmentId, confidence, distance });
      }
      return out;
    },
    /** Changes some customers' memberships of a model (assignment without retraining), in one transaction. */
    patchMemberships: (modelId: number, p: MembershipPatch): void => patch.immediate(modelId, p),
    /** Customers a sync changed since the active model last placed them. */
    dirtyCustomers(): string[] {
      return dirtyAll.all();
    },
    /** They have been placed (or found gone). */
    clearDirty(customerIds: readonly string[]): void {
      if (customerIds.length) clearDirty.run(JSON.stringify(customerIds));
    },
    /** Members of a model with no live contact left (deleted, merged or re-keyed): their membership must go. */
    orphanedMembers(modelId: number): string[] {
      return orphans.all(modelId);
    },
    segmentSizes(modelId: number): Map<string, number> {
      return new Map(sizes.all(modelId).map((r) => [r.segment_id, r.n]));
    },
    getMeta(key: string): string | undefined {
      return db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
    },
    setMeta(key: string, value: string): void {
      db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
    },
  };
}

export type ModelsRepo = ReturnType<typeof createModelsRepo>;
