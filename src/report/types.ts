/** The report's data: plain values gathered from the store, from which every chart and table is drawn. */
import type { QuarantineGroup } from '../store/status-repo.js';
import type { ScanOptions } from './scan.js';

export interface ReportOptions {
  /** Seed of the segment-map sample (default: the model's seed, else 42). */
  seed?: number;
  /** At most this many customers on the segment map (default 5,000). */
  sampleSize?: number;
  /** connector name -> connector type (hubspot, salesforce, csv), to name push targets. */
  connectorTypes?: Record<string, string>;
  /** Clock for the "generated at" line (tests). */
  now?: () => Date;
  title?: string;
  /** how the map's transactions scan is split between threads */
  scan?: ScanOptions;
}

export interface SegmentPush {
  target: string;
  /** "HubSpot list", "Salesforce campaign", "memberships file", ... */
  kind: string;
  listId: string | null;
  listName: string | null;
  /** the latest push to this target (the list is in sync as of then, unless it failed) */
  lastPushedAt: string | null;
  /** records that push failed to write, over all segments */
  lastPushFailed: number;
  /** the latest push that changed this segment's list, and by how much */
  lastChangedAt: string | null;
  /** that change was made by the latest push */
  changedInLastPush: boolean;
  adds: number;
  removes: number;
}

export interface Distinction {
  feature: string;
  label: string;
  /** standardized mean difference from all clustered customers */
  z: number;
  mean: number;
  overall: number;
}

export interface ReportSegment {
  id: string;
  name: string;
  /** unique display name (the name, with the id when two segments share one) */
  label: string;
  description: string;
  size: number;
  share: number;
  revenueShare: number;
  means: Record<string, number>;
  z: Record<string, number>;
  /** a fixed segment (e.g. "No purchases yet"): not clustered, absent from the map and heat map */
  fixed: boolean;
  color: string;
  distinctions: Distinction[];
  pushes: SegmentPush[];
}

export interface FeatureInfo {
  key: string;
  label: string;
  /** mean of the raw feature over the clustered customers */
  overall: number;
}

export interface CandidateRow {
  /** algorithm, with its variant when it has one ("hierarchical (ward)") */
  algorithm: string;
  k: number;
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
  minShare: number | null;
  /** agreement across resamples (adjusted Rand index), when measured */
  stability: number | null;
  eligible: boolean;
  chosen: boolean;
}

export interface MapPoint {
  x: number;
  y: number;
  segment: string;
}

export interface ContourPoint {
  segment: string;
  /** "50%" or "90%": the share of the segment's customers inside the line */
  level: string;
  /** one id per closed or open line */
  line: number;
  order: number;
  x: number;
  y: number;
}

export interface MapAxis {
  title: string;
  /** what moving along the axis means: "→ more orders, more total spend" */
  meaning: string;
  /** share of the variation along this axis */
  explained: number;
}

export interface SegmentMapData {
  points: MapPoint[];
  contours: ContourPoint[];
  /** mean position of each segment's sampled points, for its label */
  centers: MapPoint[];
  axes: [MapAxis, MapAxis];
  /** clustered customers the sample was drawn from */
  population: number;
  seed: number;
}

export interface MoveRow {
  from: string;
  to: string;
  count: number;
}

export interface MovesData {
  previousModelId: number;
  previousCreatedAt: string | null;
  fromLabels: string[];
  toLabels: string[];
  rows: MoveRow[];
  /** customers in both models */
  both: number;
  moved: number;
  /** customers only in the new model / only in the previous one */
  entered: number;
  left: number;
  /** churn saved with the model (share of customers in both models who changed segment) */
  churn: number | null;
}

export interface DendrogramLink {
  x: number;
  x2: number;
  y: number;
  y2: number;
  /** segment label below the cut, "" above it */
  segment: string;
}

export interface DendrogramLeaf {
  x: number;
  /** customers (tree leaves) under this displayed leaf */
  size: number;
  segment: string;
}

export interface DendrogramData {
  linkage: string | null;
  links: DendrogramLink[];
  leaves: DendrogramLeaf[];
  cut: number;
  k: number;
  /** leaves of the whole tree (customers it was built on) */
  treeLeaves: number;
}

export interface SyncStreamCounts {
  connector: string;
  stream: string;
  read: number;
  quarantined: number;
}

export interface QualityData {
  /** records in quarantine by connector, stream and reason category (a record stored or deleted since has left it) */
  groups: QuarantineGroup[];
  quarantined: number;
  /** the latest sync (or run) and what it read */
  lastSync: { runId: number; at: string; read: number; quarantined: number; streams: SyncStreamCounts[] } | null;
  /** feature -> values missing (imputed) when the model was trained */
  missing: Record<string, number>;
}

export interface ReportModel {
  id: number;
  algorithm: string;
  createdAt: string;
  k: number | null;
  silhouette: number | null;
  daviesBouldin: number | null;
  calinskiHarabasz: number | null;
  churn: number | null;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  storeFile: string;
  model: ReportModel | null;
  segments: ReportSegment[];
  features: FeatureInfo[];
  candidates: CandidateRow[];
  map: SegmentMapData | null;
  moves: MovesData | null;
  dendrogram: DendrogramData | null;
  quality: QualityData;
  /** things the reader should know (why a chart is missing) */
  notes: string[];
  /** milliseconds per step (store reads, map, rendering), wall and CPU (`mapCpu`), for logs and the bench */
  timings: Record<string, number>;
}

export interface ReportSection {
  id: string;
  title: string;
  /** an HTML fragment: inline SVG charts and tables, no scripts, no external URLs */
  html: string;
}
