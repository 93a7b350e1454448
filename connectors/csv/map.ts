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

/** Column index per canonical name (after the config's renames), and the remaining property columns. */
interface Layout {
  index: Map<string, number>;
  props: [string, number][];
}

const layouts = new WeakMap<string[], Layout>();

function layout(header: string[], canonical: readonly string[], rename: Partial<Record<string, string>> | undefined): Layout {
  const cached = layouts.get(header);
  if (cached) return cached;
  const index = new Map<string, number>();
  const used = new Set<number>();
  for (const name of canonical) {
    const col = header.indexOf(rename?.[name] ?? name);
    if (col >= 0) {
      index.set(name, col);
      used.add(col);
    }
  }
  const props: [string, number][] = [];
  header.forEach((h, i) => {
    if (!used.has(i) && h !== '') props.push([h, i]);
  });
  const l = { index, props };
  layouts.set(header, l);
  return l;
}

type Row = { get(name: string): string | undefined; location: string };

function rowOf(r: CsvRow, l: Layout): Row {
  return {
    get: (name) => {
      const i = l.index.get(name);
      return i === undefined ? undefined : r.cells[i];
    },
    location: `${r.file}:${r.line}`,
  };
}

function reject<T>(r: CsvRow, externalId: string | undefined, reason: string): ParseResult<T> {
  return {
    ok: false,
    rejected: { externalId, reason, location: `${r.file}:${r.line}`, payload: Object.fromEntries(r.header.map((h, i) => [h, r.cells[i] ?? null])) },
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
  const row = rowOf(r, l);
  const id = clean(row.get('id'));
  const cc = columnCount<Contact>(r, id);
  if (cc) return cc;
  if (id === undefined) return reject(r, undefined, `missing id: the ${cfg.columns?.contacts?.id ?? 'id'} column is empty`);
  const email = normalizeEmail(row.get('email'));
  const country = normalizeCountry(row.get('country'));
  const created = normalizeDate(row.get('created_at'), 'created_at');
  const updated = normalizeDate(row.get('updated_at'), 'updated_at');
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
  const first = clean(row.get('first_name'));
  if (first) c.firstName = first;
  const last = clean(row.get('last_name'));
  if (last) c.lastName = last;
  const company = clean(row.get('company'));
  if (company) c.company = company;
  if (country.value) c.country = country.value;
  const stage = clean(row.get('lifecycle_stage'));
  if (stage) c.lifecycleStage = stage.toLowerCase();
  return { ok: true, record: c, location: row.location };
}

export function mapTransaction(r: CsvRow, connector: string, cfg: CsvConfig): ParseResult<Transaction> {
  const l = layout(r.header, TRANSACTION_COLUMNS, cfg.columns?.transactions);
  const row = rowOf(r, l);
  const id = clean(row.get('id'));
  const cc = columnCount<Transaction>(r, id);
  if (cc) return cc;
  if (id === undefined) return reject(r, undefined, 'missing id: the id column is empty');
  const contactId = clean(row.get('contact_id'));
  if (contactId === undefined) return reject(r, id, 'missing contact_id: the transaction names no contact');
  const amount = normalizeAmount(row.get('amount'), 'amount');
  if (!amount.ok) return reject(r, id, amount.reason);
  if (amount.value === undefined) return reject(r, id, 'missing amount: the amount column is empty');
  const occurred = normalizeDate(row.get('occurred_at'), 'occurred_at');
  if (!occurred.ok) return reject(r, id, occurred.reason);
  if (occurred.value === undefined) return reject(r, id, 'missing date: occurred_at is empty');
  const currency = normalizeCurrency(row.get('currency'), cfg.defaultCurrency);
  if (!currency.ok) return reject(r, id, currency.reason);
  const rawStatus = clean(row.get('status'));
  const status = rawStatus === undefined ? 'won' : STATUSES[rawStatus.toLowerCase().replace(/[\s_-]/g, '')];
  if (!status) return reject(r, id, `bad status: ${JSON.stringify(rawStatus)} (expected won, open, lost or refunded)`);
  const properties: Record<string, PropertyValue> = {};
  for (const [name, i] of l.props) properties[name] = propertyValue(r.cells[i]);
  return {
    ok: true,
    location: row.location,
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
