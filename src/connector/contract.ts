/**
 * The connector contract. A connector is a value made by `defineConnector`,
 * one folder under connectors/, listed in the registry. It talks to its CRM and
 * maps shapes; the sync engine owns transactions, quarantine and checkpoints,
 * the push engine owns the diff and the outbox.
 */
import type { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { Contact, ParseResult, Transaction } from '../core/records.js';
import type { RetryPolicy } from './retry.js';

/** A flat, JSON-serialisable resume point, saved with every page. */
export type Checkpoint = Record<string, string | number | boolean | null>;

export interface ConnectorContext<C> {
  /** The connector's own name in the config (e.g. "files", "hubspot-eu"). */
  name: string;
  config: C;
  logger: Logger;
  signal: AbortSignal;
  retry: RetryPolicy;
  /** Directory the config file lives in; relative paths resolve against it. */
  baseDir: string;
  /** Reports progress of a long read: done and total in the stream's own unit. */
  progress?: (done: number, total?: number) => void;
}

export interface Page {
  /** Raw records as the CRM sent them; parsed by the stream's `parse`. */
  records: unknown[];
  /** Where the next read resumes when this page is committed. */
  checkpoint: Checkpoint;
  /** Ids (external) the CRM says were deleted since the last checkpoint. */
  deleted?: string[];
}

export interface ReadOptions {
  full: boolean;
  /** Records per page the engine would like (a CRM may cap it lower). */
  pageSize: number;
}

export interface Stream<C, T> {
  /** zod schema of the checkpoint, used when it is read back from the store. */
  checkpointSchema: z.ZodType<Checkpoint>;
  read(ctx: ConnectorContext<C>, from: Checkpoint | undefined, opts: ReadOptions): AsyncIterable<Page>;
  /** zod on the CRM's shape, then a pure map to the canonical record. */
  parse(raw: unknown, ctx: { connector: string; config: C }): ParseResult<T>;
  /** Records per page when the config sets none (DEFAULT_PAGE_SIZE when this is unset too). */
  defaultPageSize?: number;
}

/** Records per page when neither the config nor the stream says. */
export const DEFAULT_PAGE_SIZE = 5_000;

export interface SegmentRef {
  /** stable segment id */
  id: string;
  name: string;
  description: string;
  /** set when the segment no longer exists in the active model */
  retired: boolean;
  /** the name it had when last pushed, when it was renamed since */
  previousName?: string;
}

/** Per-target remote handles (list id, campaign id...) keyed by segment id. */
export type ListIds = Record<string, string>;

export interface MembershipOp {
  /** idempotency key within the outbox */
  key: string;
  op: 'add' | 'remove';
  externalId: string;
  customerId: string;
  segmentId: string;
  segmentName: string;
  email?: string;
  /** The remote list for this segment, from prepare() */
  listId: string | undefined;
}

export interface OpResult {
  key: string;
  ok: boolean;
  error?: string;
  /**
   * The CRM refused this record for a reason of the record itself (deleted or
   * merged there, an id it does not know): sending it again cannot help. The
   * push goes on and ends with a warning instead of failing; the next push
   * re-evaluates the record against the store (a synced deletion drops it).
   */
  permanent?: boolean;
  /** When the remote asks us to wait before retrying this record. */
  retryAfterMs?: number;
}

export interface WriterContext<C, T = unknown> extends ConnectorContext<C> {
  /** The push target's own options (lists prefix, property name, output file...), parsed by the connector's targetSchema. */
  target: T;
}

/** Writes segments to a target; the target's options are parsed by the connector's `targetSchema`. */
export interface SegmentWriter<C, T = unknown> {
  /** Most ops one apply() call may take. */
  maxBatch: number;
  /** Ensure lists/campaigns and the property/field exist; returns remote ids by segment id. */
  prepare(ctx: WriterContext<C, T>, segments: SegmentRef[], known: ListIds): Promise<ListIds>;
  /** Apply one batch; one result per op, in any order, keyed by op.key. */
  apply(ctx: WriterContext<C, T>, ops: MembershipOp[]): Promise<OpResult[]>;
  /** Where the target's data can be seen (a file path, a CRM URL), for messages. */
  location?(target: T, baseDir: string): string;
  /** Called once after the last batch of a push (e.g. to publish a file atomically). */
  finish?(ctx: WriterContext<C, T>, state: { snapshot: MembershipSnapshotRow[] }): Promise<void>;
}

/** The full desired state for the target, for writers that write a snapshot (files). */
export interface MembershipSnapshotRow {
  customerId: string;
  externalId: string;
  email: string | undefined;
  segmentId: string;
  segmentName: string;
}

export interface CheckLine {
  name: string;
  ok: boolean;
  detail: string;
}
export interface CheckReport {
  lines: CheckLine[];
}

/**
 * What a change event asks for. About a contact: upsert (created, changed or
 * restored), delete (also privacy deletions), merge (see mergedIds). About a
 * transaction (a HubSpot deal): the same, prefixed "transaction.".
 */
export type ChangeAction = 'upsert' | 'delete' | 'merge' | 'transaction.upsert' | 'transaction.delete' | 'transaction.merge';

/**
 * A change a CRM notified (one webhook event), parsed out of the CRM's shape.
 * The run that applies it re-reads the record (a transaction's contact and a
 * contact's transactions too), so the event need not say what changed.
 */
export interface ChangeEvent {
  /** the CRM's event id: a redelivery or a replay carries the same one */
  eventId: string;
  action: ChangeAction;
  /** the record's external id; for a merge, the record that survives */
  objectId: string;
  /** for a merge: the external ids it absorbed (they leave the store and their lists) */
  mergedIds: string[];
  /** epoch ms, as the CRM says */
  occurredAt: number;
}

/** A webhook delivery as it reached the server, before anything parsed the body. */
export interface WebhookRequest {
  method: string;
  /** the URL the CRM called (as it signs it), scheme and host included */
  url: string;
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
  nowMs: number;
}

export type WebhookVerdict = { ok: true } | { ok: false; code: 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' | 'TIMESTAMP_STALE'; message: string };

export type ParsedChanges = { ok: true; events: ChangeEvent[]; ignored: number } | { ok: false; message: string; field?: string };

/** What a fetch of changed records brings back: raw records for the streams' parse(). */
export interface FetchedChanges {
  contacts: unknown[];
  transactions: unknown[];
  /** ids that are no longer contacts in the CRM: asked for and not found, or merged into a fetched one */
  gone: string[];
  /** the same for transactions */
  goneTransactions: string[];
}

/** Near-real-time changes: webhooks in, then a targeted re-read of the contacts they name. */
export interface ChangeFeed<C> {
  /** Authenticates a delivery (signature and its age) with the app's secret. */
  verify(req: WebhookRequest, secret: string): WebhookVerdict;
  /** Parses an authenticated body; events about other object types, or from another account than `account` when given, are counted as ignored. */
  parse(body: unknown, opts?: { account?: string }): ParsedChanges;
  /** Reads the current state of these contacts and transactions, with the transactions of those contacts and the contacts of those transactions. */
  fetch(ctx: ConnectorContext<C>, ids: { contacts: readonly string[]; transactions: readonly string[] }): Promise<FetchedChanges>;
}

/**
 * A connector's config side: what validating a config needs, and nothing more.
 * It lives in the connector's config.ts, which imports no CRM SDK, so loading
 * and checking a config (every CLI start) never loads jsforce or the HubSpot
 * client; the registry loads the implementation (index.ts) when a job runs it.
 */
export interface ConnectorSpec<C, T = unknown> {
  type: string;
  /** zod schema for this connector's entry in the config's `connectors` list. */
  configSchema: z.ZodType<C>;
  /** zod schema of a `push.targets` entry naming this connector (the `connector` key included); set exactly when the connector has a writer. */
  targetSchema?: z.ZodType<T>;
  /** Keys of the config that are secrets, redacted from logs and run records. */
  secretKeys?: readonly string[];
}

export function defineConnectorSpec<C, T = unknown>(s: ConnectorSpec<C, T>): ConnectorSpec<C, T> {
  return s;
}

/** The implementation: its spec (spread from config.ts) plus what talks to the CRM. */
export interface Connector<C, T = unknown> extends ConnectorSpec<C, T> {
  check(ctx: ConnectorContext<C>): Promise<CheckReport>;
  streams: {
    contacts: Stream<C, Contact>;
    transactions: Stream<C, Transaction>;
  };
  writer?: SegmentWriter<C, T>;
  /** Webhooks and targeted reads for near-real-time assignment (HubSpot). */
  changes?: ChangeFeed<C>;
}

export function defineConnector<C, T = unknown>(c: Connector<C, T>): Connector<C, T> {
  // config validation accepts push targets by targetSchema alone: a writer must come with it, and only with it
  if ((c.writer === undefined) !== (c.targetSchema === undefined)) {
    throw new Error(`connector ${c.type}: set targetSchema and writer together (a push target is validated by the one and written by the other)`);
  }
  return c;
}

/** Erased forms, as held by the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds connectors of any config type; each is re-typed by its own schema
export type AnyConnector = Connector<any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export type AnyConnectorSpec = ConnectorSpec<any, any>;
