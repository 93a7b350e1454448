/** Pure mapping of CSV rows to canonical records; a bad row becomes a rejection with file:line. */
import type { Contact, ParseResult, PropertyValue, Transaction, TransactionStatus } from '../../src/core/records.js';
import {
  clean,
  normalizeAmount,
  normalizeCountry,
  normalizeCurrency,
  normalizeDate,
  normalizeEmail,
  propertyValue,
  type Norm,
} from '../../src/core/normalize.js';
import { CONTACT_COLUMNS, TRANSACTION_COLUMNS, type CsvConfig } from './config.js';
import type { CsvRow } from './read.js';

const EPOCH = '1970-01-01T00:00:00.000Z';
const STATUSES: Record<string, TransactionStatus> = {
  won: 'won', paid: 'won', completed: 'won', complete: 'won', closedwon: 'won',
  open: 'open', pending: 'open',
  lost: 'lost', closedlost: 'lost', cancelled: 'lost', canceled: 'lost',
  refunded: 'refunded', refund: 'refunded',
};

/** Status words as written ("Closed Won", "paid") to a status; the common spellings skip the normalizing. */
function statusOf(raw: string): TransactionStatus | undefined {
  if (Object.hasOwn(STATUSES, raw)) return STATUSES[raw];
  const k = raw.toLowerCase().replace(/[\s_-]/g, '');
  return Object.hasOwn(STATUSES, k) ? STATUSES[k] : undefined;
}

/** Column of each canonical name (after the config's renames; -1 when absent), and the remaining property columns. */
interface Layout {
  col: Record<string, number>;
  props: [string, number][];
}

const layouts = new WeakMap<string[], WeakMap<object, Layout>>();
const NO_RENAME = {};

/** Cached per header array (one per read) and rename map, so a row costs no lookups by name. */
function layout(header: string[], canonical: readonly string[], rename: Partial<Record<string, string>> | undefined): Layout {
  let byRename = layouts.get(header);
  const key = rename ?? NO_RENAME;
  const cached = byRename?.get(key);
  if (cached) return cached;
  const col: Record<string, number> = {};
  const used = new Set<number>();
  for (const name of canonical) {
    const c = header.indexOf(rename?.[name] ?? name);
    col[name] = c;
    if (c >= 0) used.add(c);
  }
  const props: [string, number][] = [];
  header.forEach((h, i) => {
    if (!used.has(i) && h !== '') props.push([h, i]);
  });
  const l = { col, props };
  if (!byRename) {
    byRename = new WeakMap();
    layouts.set(header, byRename);
  }
  byRename.set(key, l);
  return l;
}

/** The cell of a canonical column, undefined when the file has no such column or the row is short. */
function cell(r: CsvRow, l: Layout, name: string): string | undefined {
  const i = l.col[name] ?? -1;
  return i < 0 ? undefined : r.cells[i];
}

const locationOf = (r: CsvRow): string => `${r.file}:${r.line}`;

function reject<T>(r: CsvRow, externalId: string | undefined, reason: string): ParseResult<T> {
  return {
    ok: false,
    rejected: { externalId, reason, location: locationOf(r), payload: Object.fromEntries(r.header.map((h, i) => [h, r.cells[i] ?? null])) },
  };
}

function firstError(...ns: Norm<unknown>[]): string | undefined {
  for (const n of ns) if (!n.ok) return n.reason;
  return undefined;
}

function columnCount<T>(r: CsvRow, id: string | undefined): ParseResult<T> | undefined {
  if (r.cells.length !== r.header.length) {
    return reject(r, id, `wrong column count: expected ${r.header.length} columns, found ${r.cells.length}`);
  }
  return undefined;
}

export function mapContact(r: CsvRow, connector: string, cfg: CsvConfig): ParseResult<Contact> {
  const l = layout(r.header, CONTACT_COLUMNS, cfg.columns?.contacts);
  const id = clean(cell(r, l, 'id'));
  const cc = columnCount<Contact>(r, id);
  if (cc) return cc;
  if (id === undefined) return reject(r, undefined, `missing id: the ${cfg.columns?.contacts?.id ?? 'id'} column is empty`);
  const email = normalizeEmail(cell(r, l, 'email'));
  const country = normalizeCountry(cell(r, l, 'country'));
  const created = normalizeDate(cell(r, l, 'created_at'), 'created_at');
  const updated = normalizeDate(cell(r, l, 'updated_at'), 'updated_at');
  const err = firstError(email, country, created, updated);
  if (err || !email.ok || !country.ok || !created.ok || !updated.ok) return reject(r, id, err ?? 'invalid');
  const properties: Record<string, PropertyValue> = {};
  for (const [name, i] of l.props) properties[name] = propertyValue(r.cells[i]);
  const createdAt = created.value ?? updated.value ?? EPOCH;
  const c: Contact = {
    id: `${connector}:${id}`,
    connector,
    externalId: id,
    createdAt,
    updatedAt: updated.value ?? createdAt,
    properties,
  };
  if (email.value) c.email = email.value;
  const first = clean(cell(r, l, 'first_name'));
  if (first) c.firstName = first;
  const last = clean(cell(r, l, 'last_name'));
  if (last) c.lastName = last;
  const company = clean(cell(r, l, 'company'));
  if (company) c.company = company;
  if (country.value) c.country = country.value;
  const stage = clean(cell(r, l, 'lifecycle_stage'));
  if (stage) c.lifecycleStage = stage.toLowerCase();
  return { ok: true, record: c, location: locationOf(r) };
}

export function mapTransaction(r: CsvRow, connector: string, cfg: CsvConfig): ParseResult<Transaction> {
  const l = layout(r.header, TRANSACTION_COLUMNS, cfg.columns?.transactions);
  const id = clean(cell(r, l, 'id'));
  const cc = columnCount<Transaction>(r, id);
  if (cc) return cc;
  if (id === undefined) return reject(r, undefined, 'missing id: the id column is empty');
  const contactId = clean(cell(r, l, 'contact_id'));
  if (contactId === undefined) return reject(r, id, 'missing contact_id: the transaction names no contact');
  const amount = normalizeAmount(cell(r, l, 'amount'), 'amount');
  if (!amount.ok) return reject(r, id, amount.reason);
  if (amount.value === undefined) return reject(r, id, 'missing amount: the amount column is empty');
  const occurred = normalizeDate(cell(r, l, 'occurred_at'), 'occurred_at');
  if (!occurred.ok) return reject(r, id, occurred.reason);
  if (occurred.value === undefined) return reject(r, id, 'missing date: occurred_at is empty');
  const currency = normalizeCurrency(cell(r, l, 'currency'), cfg.defaultCurrency);
  if (!currency.ok) return reject(r, id, currency.reason);
  const rawStatus = clean(cell(r, l, 'status'));
  const status = rawStatus === undefined ? 'won' : statusOf(rawStatus);
  if (!status) return reject(r, id, `bad status: ${JSON.stringify(rawStatus)} (expected won, open, lost or refunded)`);
  const properties: Record<string, PropertyValue> = {};
  for (const [name, i] of l.props) properties[name] = propertyValue(r.cells[i]);
  return {
    ok: true,
    location: locationOf(r),
    record: {
      id: `${connector}:${id}`,
      connector,
      externalId: id,
      contactId: `${connector}:${contactId}`,
      amount: amount.value,
      currency: currency.value,
      occurredAt: occurred.value,
      status,
      properties,
    },
  };
}
