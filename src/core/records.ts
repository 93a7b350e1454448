/** Canonical records: the only shapes that leave a connector (DESIGN.md). */

export type PropertyValue = string | number | null;

export interface Contact {
  /** "<connector>:<externalId>" */
  id: string;
  connector: string;
  externalId: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  /** ISO-3166 alpha-2 */
  country?: string;
  lifecycleStage?: string;
  /** ISO-8601 UTC */
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
  properties: Record<string, PropertyValue>;
}

export type TransactionStatus = 'won' | 'open' | 'lost' | 'refunded';

export interface Transaction {
  id: string;
  connector: string;
  externalId: string;
  /** canonical contact id ("<connector>:<externalId>") */
  contactId: string;
  amount: number;
  /** ISO-4217 */
  currency: string;
  /** ISO-8601 UTC */
  occurredAt: string;
  status: TransactionStatus;
  deletedAt?: string;
  properties: Record<string, PropertyValue>;
}

/** A record the stream could not accept; goes to quarantine, never aborts the sync. */
export interface Rejected {
  externalId: string | undefined;
  reason: string;
  /** where in the source: file:line for files, page/offset for APIs */
  location?: string;
  payload: unknown;
}

/** `location` (file:line, page) travels with an accepted record so a later rejection can name it. */
export type ParseResult<T> = { ok: true; record: T; location?: string } | { ok: false; rejected: Rejected };
