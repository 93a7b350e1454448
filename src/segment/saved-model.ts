/**
 * A stored model read back for use: its feature spec, fitted transform,
 * clustering model and cluster -> segment map, each checked at this boundary.
 */
import { z } from 'zod';
import type { ModelRecord } from '../store/models-repo.js';
import type { FeatureSpec } from '../features/build.js';
import { prepColumns, type Prep } from '../features/prep.js';
import { invalidModel, parseFeatureSpec, parsePrep } from '../features/saved.js';
import { loadModel, type LoadedModel } from '../ml/assign.js';
import { OUTLIER_SEGMENT } from './fixed-segments.js';

const centroidsSchema = z.object({
  model: z.unknown(),
  segmentIds: z.array(z.string()),
  outlierSegment: z.string().optional(),
});

export interface SavedModel {
  id: number;
  algorithm: string;
  spec: FeatureSpec;
  prep: Prep;
  /** the model's input columns (prepColumns(prep)) */
  columns: string[];
  model: LoadedModel;
  /** segment id of cluster c */
  segmentIds: string[];
  outlierSegment: string;
}

export function readSavedModel(m: ModelRecord): SavedModel {
  const spec = parseFeatureSpec(m.featureSpec, m.id);
  const prep = parsePrep(m.scaler, spec, m.id);
  const columns = prepColumns(prep);
  const c = centroidsSchema.safeParse(m.centroids);
  if (!c.success) throw invalidModel(m.id, 'its saved clustering model is not readable', c.error);
  let model: LoadedModel;
  try {
    model = loadModel(c.data.model);
  } catch (e) {
    throw invalidModel(m.id, `its saved clustering model is not readable (${e instanceof Error ? e.message : String(e)})`, e);
  }
  if (model.d !== columns.length) throw invalidModel(m.id, `its clustering model has ${model.d} dimensions, its features ${columns.length}`);
  const k = model.kind === 'dbscan' ? model.nClusters : model.k;
  if (c.data.segmentIds.length < k) throw invalidModel(m.id, `it maps ${c.data.segmentIds.length} clusters to segments, its model has ${k}`);
  return {
    id: m.id,
    algorithm: m.algorithm,
    spec,
    prep,
    columns,
    model,
    segmentIds: c.data.segmentIds,
    outlierSegment: c.data.outlierSegment ?? OUTLIER_SEGMENT.id,
  };
}
