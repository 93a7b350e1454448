/**
 * Parsing a CSV file costs as much CPU as storing it, so it runs on a worker
 * thread: the worker reads, parses and maps rows to canonical records (pure
 * functions) while the main thread commits the previous page. Two pages are in
 * flight at most, so memory stays flat. Where no compiled worker script exists
 * (running from TypeScript sources in tests) the same code runs inline.
 *
 * A page crosses the thread boundary packed (`PackedPage`): every value of every
 * record in a few flat arrays and one string, not thousands of small objects —
 * structured-cloning objects cost the main thread more than storing them. Both
 * paths, inline and worker, pack and unpack the same way, so they yield equal pages.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Checkpoint, Page } from '../../src/connector/contract.js';
import { UserError, type ErrorCode, type Where } from '../../src/core/errors.js';
import type { Contact, ParseResult, PropertyValue, Rejected, Transaction } from '../../src/core/records.js';
import type { CsvConfig } from './config.js';
import { mapContact, mapTransaction } from './map.js';
import { readCsvBatches, type CsvCheckpoint, type CsvRow } from './read.js';

export type CsvStreamName = 'contacts' | 'transactions';

export interface ParsedPagesOptions {
  stream: CsvStreamName;
  file: string;
  label: string;
  pageSize: number;
  from: CsvCheckpoint | undefined;
  full: boolean;
  connector: string;
  config: CsvConfig;
}

/**
 * A page of mapped records, packed. `tags` gives the kind of every value in write
 * order; numbers are in `nums`, strings one after another in `text` with their
 * lengths in `lens`; property names and the values of few distinct strings (currency,
 * status, country, stage) once each in `symbols`, referred to by index. A record id
 * that is "<connector>:<externalId>" is not sent but made again. A rejected record is
 * a tag and its Rejected in `rejected`.
 */
export interface PackedPage {
  stream: CsvStreamName;
  connector: string;
  /** the file, for record locations (`file:line`) */
  file: string;
  count: number;
  tags: Uint8Array;
  nums: Float64Array;
  text: string;
  lens: Uint32Array;
  /** property names and repeated values, referred to by index */
  symbols: string[];
  rejected: Rejected[];
  checkpoint: Checkpoint;
}

/** What crosses the thread boundary: no functions, no signals. */
export type WorkerMessage =
  | { kind: 'page'; page: PackedPage; done: number; total: number }
  | { kind: 'end' }
  | { kind: 'error'; user: boolean; code?: ErrorCode; message: string; where?: Where; hint?: string; stack?: string };

const IN_FLIGHT = 2;

// value tags
const ACCEPTED = 1;
const REJECTED = 2;
const STR = 3;
const NUM = 4;
const NONE = 5;
const NULL = 6;
const SYM = 7;
/** the record's id is "<connector>:<externalId>" */
const OWN_ID = 8;

/** Growable typed arrays for one page; sized from the previous page so they rarely grow. */
class PageWriter {
  private tags: Uint8Array;
  private nt = 0;
  private nums: Float64Array;
  private nn = 0;
  private lens: Uint32Array;
  private ns = 0;
  /** the strings of the current batch, joined by settle() (one copy; appending built a rope to flatten) */
  private readonly parts: string[] = [];
  /** the joined strings of earlier batches of the page */
  private readonly settled: string[] = [];
  private readonly symbolIndex = new Map<string, number>();
  private readonly symbols: string[] = [];
  private readonly idPrefix: string;
  private readonly rejected: Rejected[] = [];
  private count = 0;

  constructor(
    private readonly stream: CsvStreamName,
    private readonly connector: string,
    private readonly file: string,
    size: { tags: number; nums: number; strs: number },
  ) {
    this.idPrefix = `${connector}:`;
    this.tags = new Uint8Array(Math.max(64, size.tags));
    this.nums = new Float64Array(Math.max(16, size.nums));
    this.lens = new Uint32Array(Math.max(16, size.strs));
  }

  private tag(t: number): void {
    if (this.nt === this.tags.length) this.tags = grow(this.tags, new Uint8Array(this.tags.length * 2));
    this.tags[this.nt++] = t;
  }
  private str(s: string): void {
    this.tag(STR);
    if (this.ns === this.lens.length) this.lens = grow(this.lens, new Uint32Array(this.lens.length * 2));
    this.lens[this.ns++] = s.length;
    this.parts.push(s);
  }
  private opt(s: string | undefined): void {
    if (s === undefined) this.tag(NONE);
    else this.str(s);
  }
  private num(n: number): void {
    this.tag(NUM);
    if (this.nn === this.nums.length) this.nums = grow(this.nums, new Float64Array(this.nums.length * 2));
    this.nums[this.nn++] = n;
  }
  private symbol(s: string): number {
    let i = this.symbolIndex.get(s);
    if (i === undefined) {
      i = this.symbols.length;
      this.symbols.push(s);
      this.symbolIndex.set(s, i);
    }
    return i;
  }
  /** a string with few distinct values */
  private sym(s: string | undefined): void {
    if (s === undefined) this.tag(NONE);
    else {
      this.tag(SYM);
      if (this.nn === this.nums.length) this.nums = grow(this.nums, new Float64Array(this.nums.length * 2));
      this.nums[this.nn++] = this.symbol(s);
    }
  }
  /** a record id, after its external id */
  private id(id: string, externalId: string): void {
    const prefix = this.idPrefix;
    if (id.length === prefix.length + externalId.length && id.startsWith(prefix) && id.endsWith(externalId)) this.tag(OWN_ID);
    else this.str(id);
  }
  private props(p: Record<string, PropertyValue>): void {
    const at = this.nn;
    this.num(0);
    let k = 0;
    for (const name in p) {
      this.num(this.symbol(name));
      const v = p[name] as PropertyValue;
      if (v === null) this.tag(NULL);
      else if (typeof v === 'number') this.num(v);
      else this.str(v);
      k++;
    }
    this.nums[at] = k;
  }
  private connectorOf(record: { connector: string }): void {
    // the page carries the connector; every record of a stream is the stream's connector's
    if (record.connector !== this.connector) throw new Error(`csv page: a record of connector ${record.connector} in a page of ${this.connector}`);
  }

  add(r: ParseResult<unknown>, line: number): void {
    this.count++;
    if (!r.ok) {
      this.tag(REJECTED);
      this.rejected.push(r.rejected);
      return;
    }
    this.tag(ACCEPTED);
    this.num(line);
    if (this.stream === 'contacts') {
      const c = r.record as Contact;
      this.connectorOf(c);
      this.str(c.externalId);
      this.id(c.id, c.externalId);
      this.opt(c.email);
      this.opt(c.firstName);
      this.opt(c.lastName);
      this.opt(c.company);
      this.sym(c.country);
      this.sym(c.lifecycleStage);
      this.str(c.createdAt);
      this.str(c.updatedAt);
      this.opt(c.deletedAt);
      this.props(c.properties);
    } else {
      const t = r.record as Transaction;
      this.connectorOf(t);
      this.str(t.externalId);
      this.id(t.id, t.externalId);
      this.str(t.contactId);
      this.num(t.amount);
      this.sym(t.currency);
      this.str(t.occurredAt);
      this.sym(t.status);
      this.opt(t.deletedAt);
      this.props(t.properties);
    }
  }

  /**
   * Flattens the appended strings into one, between batches of a big page: a rope of a
   * page's worth of pieces survives every collection in mid-page, and copying it costs.
   */
  settle(): void {
    if (this.parts.length === 0) return;
    this.settled.push(this.parts.join(''));
    this.parts.length = 0;
  }

  finish(checkpoint: Checkpoint): PackedPage {
    return {
      stream: this.stream,
      connector: this.connector,
      file: this.file,
      count: this.count,
      tags: this.tags.slice(0, this.nt),
      nums: this.nums.slice(0, this.nn),
      text: this.settled.length > 0 ? this.settled.join('') + this.parts.join('') : this.parts.join(''),
      lens: this.lens.slice(0, this.ns),
      symbols: this.symbols,
      rejected: this.rejected,
      checkpoint,
    };
  }
}

function grow<T extends Uint8Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

class PageReader {
  private t = 0;
  private n = 0;
  private s = 0;
  private at = 0;
  private readonly idPrefix: string;
  constructor(private readonly p: PackedPage) {
    this.idPrefix = `${p.connector}:`;
  }

  private expect(tag: number): void {
    if (this.p.tags[this.t++] !== tag) throw new Error(`csv page: corrupt packed page (expected tag ${tag} at ${this.t - 1})`);
  }
  tag(): number {
    return this.p.tags[this.t++] ?? 0;
  }
  str(): string {
    this.expect(STR);
    const len = this.p.lens[this.s++] as number;
    const v = this.p.text.slice(this.at, this.at + len);
    this.at += len;
    return v;
  }
  opt(): string | undefined {
    if (this.p.tags[this.t] === NONE) {
      this.t++;
      return undefined;
    }
    return this.str();
  }
  num(): number {
    this.expect(NUM);
    return this.p.nums[this.n++] as number;
  }
  sym(): string {
    this.expect(SYM);
    return this.p.symbols[this.p.nums[this.n++] as number] as string;
  }
  optSym(): string | undefined {
    if (this.p.tags[this.t] === NONE) {
      this.t++;
      return undefined;
    }
    return this.sym();
  }
  id(externalId: string): string {
    if (this.p.tags[this.t] === OWN_ID) {
      this.t++;
      return this.idPrefix + externalId;
    }
    return this.str();
  }
  props(): Record<string, PropertyValue> {
    const out: Record<string, PropertyValue> = {};
    for (let k = this.num(); k > 0; k--) {
      const name = this.p.symbols[this.num()] as string;
      const tag = this.p.tags[this.t];
      out[name] = tag === NULL ? (this.t++, null) : tag === NUM ? this.num() : this.str();
    }
    return out;
  }
}

function readContact(r: PageReader, connector: string): Contact {
  const externalId = r.str();
  const id = r.id(externalId);
  const email = r.opt();
  const firstName = r.opt();
  const lastName = r.opt();
  const company = r.opt();
  const country = r.optSym();
  const lifecycleStage = r.optSym();
  const createdAt = r.str();
  const updatedAt = r.str();
  const deletedAt = r.opt();
  const c: Contact = { id, connector, externalId, createdAt, updatedAt, properties: r.props() };
  if (email !== undefined) c.email = email;
  if (firstName !== undefined) c.firstName = firstName;
  if (lastName !== undefined) c.lastName = lastName;
  if (company !== undefined) c.company = company;
  if (country !== undefined) c.country = country;
  if (lifecycleStage !== undefined) c.lifecycleStage = lifecycleStage;
  if (deletedAt !== undefined) c.deletedAt = deletedAt;
  return c;
}

function readTransaction(r: PageReader, connector: string): Transaction {
  const externalId = r.str();
  const id = r.id(externalId);
  const contactId = r.str();
  const amount = r.num();
  const currency = r.sym();
  const occurredAt = r.str();
  const status = r.sym() as Transaction['status'];
  const deletedAt = r.opt();
  const t: Transaction = { id, connector, externalId, contactId, amount, currency, occurredAt, status, properties: r.props() };
  if (deletedAt !== undefined) t.deletedAt = deletedAt;
  return t;
}

/** The page's records as ParseResults, in file order; an accepted record's location is `file:line`. */
export function unpackPage(p: PackedPage): Page {
  const r = new PageReader(p);
  const records: ParseResult<unknown>[] = new Array<ParseResult<unknown>>(p.count);
  let rejected = 0;
  const at = `${p.file}:`;
  for (let i = 0; i < p.count; i++) {
    const tag = r.tag();
    if (tag === REJECTED) {
      records[i] = { ok: false, rejected: p.rejected[rejected++] as Rejected };
      continue;
    }
    if (tag !== ACCEPTED) throw new Error('csv page: corrupt packed page (no record tag)');
    const line = r.num();
    const record = p.stream === 'contacts' ? readContact(r, p.connector) : readTransaction(r, p.connector);
    records[i] = { ok: true, record, location: at + line };
  }
  return { records, checkpoint: p.checkpoint };
}

const NO_CELLS: string[] = [];

/** Rows parsed at a time; a bigger page is packed from several of these. */
const PARSE_ROWS = 5_000;

/**
 * The rows a page is read in: a divisor of the page size (so pages keep their size) of at
 * most PARSE_ROWS and at least a fifth of it; else the page size (one read per page).
 */
export function readRows(pageSize: number): number {
  if (pageSize <= PARSE_ROWS) return pageSize;
  for (let r = PARSE_ROWS; r >= PARSE_ROWS / 5; r--) if (pageSize % r === 0) return r;
  return pageSize;
}

/**
 * Reads, parses and maps one stream: packed pages of ParseResults. A big page is read
 * and mapped a few thousand rows at a time into one packed page: the parsed cells of
 * 50,000 rows alive at once outgrow the young generation, and collecting them cost
 * more than the parsing.
 */
export async function* packedPages(
  o: ParsedPagesOptions,
  signal: AbortSignal,
  progress?: (done: number, total?: number) => void,
): AsyncGenerator<PackedPage> {
  const map = o.stream === 'contacts' ? mapContact : mapTransaction;
  const step = readRows(o.pageSize);
  let size = { tags: 0, nums: 0, strs: 0 };
  let w: PageWriter | undefined;
  let inPage = 0;
  for await (const b of readCsvBatches({ ...o, pageSize: step, delimiter: o.config.delimiter, signal, progress })) {
    w ??= new PageWriter(o.stream, o.connector, b.file, size);
    // one row object for the batch (the mappers keep nothing of it), and each parsed row let go
    // once mapped, so a collection in mid-batch has less to keep
    const row: CsvRow = { file: b.file, line: 0, header: b.header, cells: NO_CELLS };
    const rows = b.rows;
    for (let i = 0; i < rows.length; i++) {
      row.line = b.lines[i] as number;
      row.cells = rows[i] as string[];
      rows[i] = NO_CELLS;
      w.add(map(row, o.connector, o.config), row.line);
    }
    inPage += rows.length;
    // a short batch is the file's end, or a cut the reader made (huge rows, a parse error next): the page ends with it
    if (inPage < o.pageSize && rows.length === step && b.checkpoint.done !== true) {
      w.settle();
      continue;
    }
    const page = w.finish(b.checkpoint);
    size = { tags: page.tags.length, nums: page.nums.length, strs: page.lens.length };
    w = undefined;
    inPage = 0;
    yield page;
  }
}

/** Pages whose records are already-mapped ParseResults, on this thread (packed and unpacked like the worker's). */
export async function* mapPagesInline(
  o: ParsedPagesOptions,
  signal: AbortSignal,
  progress?: (done: number, total?: number) => void,
): AsyncGenerator<Page> {
  for await (const p of packedPages(o, signal, progress)) yield unpackPage(p);
}

function workerScript(): string | undefined {
  const url = new URL('./parse-worker.js', import.meta.url);
  const path = fileURLToPath(url);
  return import.meta.url.endsWith('.js') && existsSync(path) ? path : undefined;
}

export async function* parsedPages(
  o: ParsedPagesOptions,
  signal: AbortSignal,
  progress?: (done: number, total?: number) => void,
): AsyncGenerator<Page> {
  const script = workerScript();
  if (!script) {
    yield* mapPagesInline(o, signal, progress);
    return;
  }
  // a roomier young generation: the worker makes many short-lived strings and arrays per row
  const worker = new Worker(script, { workerData: o, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let exitError: Error | undefined;
  worker.on('message', (m: WorkerMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    exitError = e;
    wake?.();
  });
  // a worker we stop (abort, or the consumer leaving early) exits with code 1: that is no failure
  let stopping = false;
  worker.on('exit', (code) => {
    if (code !== 0 && !exitError && !stopping) exitError = new Error(`CSV parser thread exited with code ${code}`);
    wake?.();
  });
  const onAbort = (): void => {
    stopping = true;
    void worker.terminate();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      // an abort stops between pages: pages parsed ahead are dropped, their checkpoint was never committed
      if (signal.aborted) return;
      while (queue.length === 0) {
        if (signal.aborted) return;
        if (exitError) throw exitError;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
      const m = queue.shift() as WorkerMessage;
      if (m.kind === 'end') return;
      if (m.kind === 'error') {
        if (m.user && m.code) {
          throw new UserError(m.code, m.message, { ...(m.where ? { where: m.where } : {}), ...(m.hint ? { hint: m.hint } : {}) });
        }
        const e = new Error(m.message);
        if (m.stack) e.stack = m.stack;
        throw e;
      }
      progress?.(m.done, m.total);
      yield unpackPage(m.page);
      // the page is committed once the consumer asks for the next one
      worker.postMessage('more');
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    stopping = true;
    await worker.terminate();
  }
}

const WORKER_YOUNG_MB = 48;

export { IN_FLIGHT };
