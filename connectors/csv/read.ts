/**
 * Streams a CSV file in pages with a byte-offset checkpoint, so a 5 GB file never
 * sits in memory and a killed sync resumes at the first uncommitted row.
 *
 * How a page is read: a scanner finds where each record ends — a line feed outside
 * quotes, by csv-parse's own quoting rules for the options in `csvOptions` — which
 * gives the exact byte offset and line of every record without asking csv-parse for
 * per-record `info` (that bookkeeping cost more than the parsing). csv-parse then
 * parses the page's bytes, which are whole records, with `info` off. Line numbers are
 * physical lines (one per line feed), so quoted multi-line cells, CRLF and skipped
 * blank lines all count right. The record count csv-parse returns is checked against
 * the scanner's; should they ever disagree, the rest of the file is read by csv-parse
 * alone with `info: true` (`readWithInfo`: slower, same pages).
 */
import { createReadStream, statSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { parse, type CsvError } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { z } from 'zod';
import { UserError } from '../../src/core/errors.js';
import type { Checkpoint, Page } from '../../src/connector/contract.js';

/** One raw row as the stream hands it to parse(). */
export interface CsvRow {
  file: string;
  line: number;
  header: string[];
  cells: string[];
}

export const csvCheckpointSchema = z.object({
  /** size:mtime of the file when read; a different value means a new file */
  fingerprint: z.string(),
  /** byte offset of the next unread row */
  offset: z.number().int().min(0),
  /** line number of the next unread row */
  line: z.number().int().min(1),
  /** the header row, JSON */
  header: z.string(),
  done: z.boolean(),
});
export type CsvCheckpoint = z.infer<typeof csvCheckpointSchema>;

export function fingerprint(file: string): string {
  const st = statSync(file);
  return `${st.size}:${Math.trunc(st.mtimeMs)}`;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Reads the header row and the byte offset right after it. */
function readHeader(file: string, delimiter: string): { header: string[]; offset: number; line: number } {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(64 * 1024);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, total);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      const text = Buffer.concat(chunks).toString('utf8');
      const nl = headerEnd(text);
      if (nl >= 0) return finish(text.slice(0, nl), Buffer.byteLength(text.slice(0, nl + 1)));
      if (total > 1024 * 1024) break;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') throw new UserError('INPUT_INVALID', 'the file is empty: expected a header row', { where: { file, line: 1 } });
    return finish(text.replace(/\r?\n$/, ''), Buffer.byteLength(text));
  } finally {
    closeSync(fd);
  }

  function finish(line: string, offset: number): { header: string[]; offset: number; line: number } {
    const clean = line.replace(/^\uFEFF/, '').replace(/\r$/, '');
    const header = splitHeader(clean, delimiter).map((h) => h.trim());
    if (header.length === 0 || header.every((h) => h === '')) {
      throw new UserError('INPUT_INVALID', 'the header row is empty', { where: { file, line: 1 } });
    }
    const dup = header.find((h, i) => header.indexOf(h) !== i);
    if (dup !== undefined) throw new UserError('INPUT_INVALID', `header names column "${dup}" twice`, { where: { file, line: 1 } });
    return { header, offset, line: 2 };
  }
}

/** End of the header row, outside quotes. */
function headerEnd(text: string): number {
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') q = !q;
    else if (c === '\n' && !q) return i;
  }
  return -1;
}

function splitHeader(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === delimiter) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export interface ReadCsvOptions {
  file: string;
  label: string;
  delimiter: string;
  pageSize: number;
  from: CsvCheckpoint | undefined;
  full: boolean;
  signal: AbortSignal;
  progress?: ((done: number, total?: number) => void) | undefined;
  /** Bytes asked of the file per read (default 4 MiB; tests use a few bytes to cross read boundaries everywhere). */
  readBytes?: number | undefined;
  /** Read with csv-parse's per-record `info` only, no scanner: the reference the scanner is tested against. */
  reference?: boolean | undefined;
}

/** A page of raw rows: the cells of each record and the line it starts on. */
export interface CsvBatch {
  file: string;
  /** the header row; one array shared by every batch of a read */
  header: string[];
  rows: string[][];
  /** line each row starts on (1-based), same order as rows */
  lines: number[];
  checkpoint: Checkpoint;
}

/** The csv-parse options every read uses. Every line feed outside quotes ends a record (CRLF or LF, even mixed). */
function csvOptions(delimiter: string): { delimiter: string; record_delimiter: string[]; relax_column_count: true; skip_empty_lines: true; relax_quotes: true } {
  return { delimiter, record_delimiter: ['\r\n', '\n'], relax_column_count: true, skip_empty_lines: true, relax_quotes: true };
}

/** Rows in pages, as CsvRow records (what the unit tests and simple callers use). */
export async function* readCsvPages(o: ReadCsvOptions): AsyncGenerator<Page> {
  for await (const b of readCsvBatches(o)) {
    const records: CsvRow[] = new Array<CsvRow>(b.rows.length);
    for (let i = 0; i < b.rows.length; i++) records[i] = { file: b.file, line: b.lines[i] as number, header: b.header, cells: b.rows[i] as string[] };
    yield { records, checkpoint: b.checkpoint };
  }
}

interface Start {
  header: string[];
  offset: number;
  line: number;
}

/**
 * The pages of a CSV file from a checkpoint: each has `pageSize` rows, except the last
 * (fewer, or none), which is marked done; an aborted read stops between pages and is
 * never marked done.
 */
export async function* readCsvBatches(o: ReadCsvOptions): AsyncGenerator<CsvBatch> {
  if (!existsSync(o.file)) {
    throw new UserError('INPUT_NOT_FOUND', `${o.label} file not found`, { where: { file: o.file }, hint: 'check the path in the connector config' });
  }
  const fp = fingerprint(o.file);
  const size = statSync(o.file).size;
  let start: Start;
  if (!o.full && o.from && o.from.fingerprint === fp) {
    if (o.from.done) return; // unchanged since the last complete read
    start = { header: JSON.parse(o.from.header) as string[], offset: o.from.offset, line: o.from.line };
  } else {
    start = readHeader(o.file, o.delimiter);
  }
  const headerJson = JSON.stringify(start.header);
  const cp = (offset: number, line: number, done: boolean): Checkpoint => ({ fingerprint: fp, offset, line, header: headerJson, done });

  if (start.offset >= size) {
    yield { file: o.file, header: start.header, rows: [], lines: [], checkpoint: cp(start.offset, start.line, true) };
    return;
  }
  // a delimiter that is a quote or a line break cannot be scanned for; csv-parse alone reads such files
  if (o.reference || o.delimiter === '"' || o.delimiter === '\n' || o.delimiter === '\r' || o.delimiter === '') {
    yield* readWithInfo(o, start, size, cp);
    return;
  }
  const fh = await open(o.file, 'r');
  try {
    yield* readScanned(o, fh, start, size, cp);
  } finally {
    await fh.close();
  }
}

let fallbacks = 0;
/** How many reads in this thread the scanner handed to csv-parse alone because they disagreed (0 unless the scanner has a bug). */
export function scannerFallbacks(): number {
  return fallbacks;
}

const LF = 10;
const CR = 13;
const QUOTE = 34;
const READ_BYTES = 4 << 20;
/** A page is cut short (not done) when its bytes would pass this; a single row may not. */
const MAX_PAGE_BYTES = 64 << 20;
/** Scanner results besides an end offset. */
const NEED_MORE = -1;
const UNCLOSED = -2;

type MakeCheckpoint = (offset: number, line: number, done: boolean) => Checkpoint;

async function* readScanned(o: ReadCsvOptions, fh: FileHandle, start: Start, size: number, cp: MakeCheckpoint): AsyncGenerator<CsvBatch> {
  const delim = Buffer.from(o.delimiter, 'utf8');
  const options = csvOptions(o.delimiter);
  const chunk = Math.max(1, o.readBytes ?? READ_BYTES);
  let buf = Buffer.allocUnsafe(chunk);
  let view = buf.subarray(0, 0);
  /** file offset of buf[0] */
  let base = start.offset;
  /** file offset of the next read */
  let readAt = start.offset;
  let eof = false;
  /** scan position (in buf) and the line it is on */
  let p = 0;
  let line = start.line;
  /** next quote at or after p, -1 for none in view, NaN for unknown */
  let quoteAt = Number.NaN;

  /** Drops the bytes before `keep` and reads more; returns how far positions moved back. */
  const fill = async (keep: number): Promise<number> => {
    const len = view.length;
    if (keep > 0) {
      buf.copyWithin(0, keep, len);
      base += keep;
    }
    let used = len - keep;
    if (buf.length - used < chunk) {
      const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, used + chunk));
      buf.copy(bigger, 0, 0, used);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(buf, used, chunk, readAt);
    if (bytesRead === 0) eof = true;
    readAt += bytesRead;
    used += bytesRead;
    view = buf.subarray(0, used);
    quoteAt = Number.NaN;
    return keep;
  };

  for (;;) {
    if (o.signal.aborted) return;
    const lines: number[] = [];
    let pageStart = p;
    const pageLine = line;
    let pageEnd = p;
    let pageEndLine = line;
    let unclosed = false;
    let tooLong = false;
    while (lines.length < o.pageSize) {
      // blank lines between records are skipped (csv-parse skips them too)
      const c = p < view.length ? (view[p] as number) : -1;
      if (c === LF) {
        p++;
        line++;
        continue;
      }
      if (c === CR && p + 1 < view.length && view[p + 1] === LF) {
        p += 2;
        line++;
        continue;
      }
      let end: number;
      /** line feeds in the record, its last one included */
      let lf = 1;
      if (c === -1 && eof) break; // no more records
      if (c === -1 || (c === CR && p + 1 >= view.length && !eof)) end = NEED_MORE;
      else {
        // the common row has no quote: it ends at the next line feed
        if (Number.isNaN(quoteAt) || (quoteAt !== -1 && quoteAt < p)) quoteAt = view.indexOf(QUOTE, p);
        const nl = view.indexOf(LF, p);
        if (nl !== -1 && (quoteAt === -1 || quoteAt > nl)) end = nl + 1;
        else {
          end = recordEnd(view, p, eof, delim);
          if (end >= 0) {
            lf = 0;
            for (let i = view.indexOf(LF, p); i !== -1 && i < end; i = view.indexOf(LF, i + 1)) lf++;
          }
        }
      }
      if (end === NEED_MORE) {
        if (lines.length > 0 && view.length - pageStart >= MAX_PAGE_BYTES) break; // a short page; the rest follows
        if (view.length - p >= MAX_PAGE_BYTES) {
          tooLong = true;
          break;
        }
        const shift = await fill(pageStart);
        p -= shift;
        pageStart -= shift;
        pageEnd -= shift;
        continue;
      }
      if (end === UNCLOSED) {
        unclosed = true;
        break;
      }
      lines.push(line);
      // a record that ends the file without a line feed still ends its line
      line += view[end - 1] === LF ? lf : lf + 1;
      p = end;
      pageEnd = end;
      pageEndLine = line;
    }
    let rows: string[][] = [];
    if (lines.length > 0) {
      let parsed: string[][] | undefined = plainRows(view, pageStart, pageEnd, o.delimiter);
      if (parsed === undefined) {
        try {
          parsed = parseSync(view.subarray(pageStart, pageEnd), options);
        } catch {
          parsed = undefined;
        }
      }
      if (parsed === undefined || parsed.length !== lines.length) {
        // the scanner and csv-parse disagree about this file: csv-parse reads the rest on its own
        fallbacks++;
        yield* readWithInfo(o, { header: start.header, offset: base + pageStart, line: pageLine }, size, cp);
        return;
      }
      rows = parsed;
    }
    const done = eof && p >= view.length && lines.length < o.pageSize && !unclosed && !tooLong;
    if (lines.length > 0 || done) {
      // progress counts the bytes a page holds as it is handed on
      o.progress?.(done ? size : base + pageEnd, size);
      yield { file: o.file, header: start.header, rows, lines, checkpoint: cp(base + pageEnd, pageEndLine, done) };
    }
    if (unclosed) {
      // csv-parse has the last word: it must fail on the rest of the file as well
      let fails = false;
      try {
        parseSync(view.subarray(p), options);
      } catch {
        fails = true;
      }
      if (!fails) {
        fallbacks++;
        yield* readWithInfo(o, { header: start.header, offset: base + p, line }, size, cp);
        return;
      }
      throw new UserError('INPUT_INVALID', `cannot parse ${o.label} CSV: a quoted cell that starts in this row is never closed (the file ends inside the quotes)`, {
        where: { file: o.file, line },
        hint: 'close the quote; a quote inside a quoted cell is written twice ("")',
      });
    }
    if (tooLong) {
      throw new UserError('INPUT_INVALID', `cannot parse ${o.label} CSV: the row that starts here is longer than ${MAX_PAGE_BYTES >> 20} MB, most likely a quote that is never closed`, {
        where: { file: o.file, line },
        hint: 'check the quotes in this row; a quote inside a quoted cell is written twice ("")',
      });
    }
    if (done) return;
  }
}

/**
 * The rows of whole records in `b[from, to)` when no byte there is a quote: then
 * csv-parse (with `csvOptions`) only splits records at LF or CRLF, skips empty
 * lines and splits cells at the delimiter, which `String.split` does at a fraction
 * of the cost. Undefined when the bytes hold a quote or a carriage return that does
 * not end a line (csv-parse parses those pages).
 */
function plainRows(b: Buffer, from: number, to: number, delimiter: string): string[][] | undefined {
  const q = b.indexOf(QUOTE, from);
  if (q !== -1 && q < to) return undefined;
  const text = b.toString('utf8', from, to);
  const crlf = text.includes('\r');
  const lines = text.split('\n');
  const rows: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (crlf && line.includes('\r')) {
      // a CR is data unless it comes right before a line feed (the last piece has none after it)
      if (line.indexOf('\r') !== line.length - 1 || i === lines.length - 1) return undefined;
      line = line.slice(0, -1);
    }
    if (line.length > 0) rows.push(line.split(delimiter));
  }
  return rows;
}

/**
 * End of the record that starts at `p` (the offset after its line feed), following
 * csv-parse with quote = escape = '"', relax_quotes and the record delimiters of
 * `csvOptions`: a quote opens a quoted cell only as a cell's first byte; inside one,
 * `""` is a quote and a quote followed by anything but a delimiter, a line end or the
 * end of the file is data (relax_quotes), the cell going on unquoted. Returns
 * NEED_MORE when `b` ends first (and the file does not), UNCLOSED when the file ends
 * inside quotes, `b.length` when the last record ends at the end of the file.
 */
function recordEnd(b: Buffer, p: number, eof: boolean, delim: Buffer): number {
  const len = b.length;
  const dl = delim.length;
  let pos = p;
  for (;;) {
    // pos is where a cell starts
    if (pos < len && b[pos] === QUOTE) {
      let i = pos + 1;
      for (;;) {
        const q = b.indexOf(QUOTE, i);
        if (q === -1) return eof ? UNCLOSED : NEED_MORE;
        if (q + 1 >= len) return eof ? len : NEED_MORE;
        const n = b[q + 1];
        if (n === QUOTE) {
          i = q + 2;
          continue;
        }
        if (n === LF) return q + 2;
        if (n === CR) {
          if (q + 2 >= len && !eof) return NEED_MORE;
          if (b[q + 2] === LF) return q + 3;
        }
        if (q + 1 + dl > len && !eof) return NEED_MORE;
        if (startsWith(b, q + 1, delim)) {
          pos = q + 1 + dl;
          break;
        }
        // relax_quotes: the closing quote was data; the cell goes on unquoted
        pos = q + 1;
        const r = unquoted(b, pos, eof, delim);
        if (r.end !== undefined) return r.end;
        pos = r.next;
        break;
      }
      continue;
    }
    const r = unquoted(b, pos, eof, delim);
    if (r.end !== undefined) return r.end;
    pos = r.next;
  }
}

/**
 * From `from`, inside an unquoted cell (or at the start of one not opening with a
 * quote): either the record ends (`end`) or a later cell opens with a quote (`next`,
 * the offset of that quote). Quotes that do not open a cell are data.
 */
function unquoted(b: Buffer, from: number, eof: boolean, delim: Buffer): { end?: number; next: number } {
  const len = b.length;
  const dl = delim.length;
  const nl = b.indexOf(LF, from);
  let q = b.indexOf(QUOTE, from);
  while (q !== -1 && (nl === -1 || q < nl)) {
    if (q - dl >= from && startsWith(b, q - dl, delim)) return { next: q };
    q = b.indexOf(QUOTE, q + 1);
  }
  if (nl !== -1) return { end: nl + 1, next: 0 };
  return { end: eof ? len : NEED_MORE, next: 0 };
}

function startsWith(b: Buffer, at: number, s: Buffer): boolean {
  if (at + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s[i]) return false;
  return true;
}

/**
 * csv-parse alone, with `info: true`, from a record boundary: the reference the
 * scanner follows, used where the scanner cannot be (a delimiter that is a quote
 * or a line break) or if it ever disagrees with csv-parse. Same pages, same lines.
 */
async function* readWithInfo(o: ReadCsvOptions, start: Start, size: number, cp: MakeCheckpoint): AsyncGenerator<CsvBatch> {
  // a parse error is taken through on_skip rather than as a stream error, which would drop the rows parsed before it
  let failure: CsvError | undefined;
  const parser = createReadStream(o.file, { start: start.offset, highWaterMark: 1024 * 1024 }).pipe(
    parse({
      ...csvOptions(o.delimiter),
      info: true,
      skip_records_with_error: true,
      on_skip: (e) => {
        failure ??= e;
        return undefined;
      },
    }),
  );
  let rows: string[][] = [];
  let lines: number[] = [];
  let offset = start.offset;
  /** line after the last record, csv-parse's count of blank lines skipped up to it, records read */
  let nextLine = start.line;
  let blanks = 0;
  let count = 0;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { bytes: number; empty_lines: number } }>) {
      if (o.signal.aborted) break;
      if (failure && count >= Number(failure.records ?? 0)) break;
      count++;
      // every skipped blank line and every line feed inside a cell is one line
      const first = nextLine + (rec.info.empty_lines - blanks);
      blanks = rec.info.empty_lines;
      let inner = 0;
      for (const c of rec.record) if (c.includes('\n')) inner += countNewlines(c);
      rows.push(rec.record);
      lines.push(first);
      offset = start.offset + rec.info.bytes;
      nextLine = first + inner + 1;
      if (lines.length >= o.pageSize) {
        o.progress?.(offset, size);
        yield { file: o.file, header: start.header, rows, lines, checkpoint: cp(offset, nextLine, false) };
        rows = [];
        lines = [];
      }
    }
  } finally {
    parser.destroy();
  }
  if (failure) {
    // rows before the broken one are still committed with their checkpoint
    if (lines.length) yield { file: o.file, header: start.header, rows, lines, checkpoint: cp(offset, nextLine, false) };
    const skipped = typeof failure.empty_lines === 'number' ? failure.empty_lines - blanks : 0;
    throw new UserError('INPUT_INVALID', `cannot parse ${o.label} CSV: ${failure.message.replace(/ at line \d+/, '')}`, {
      where: { file: o.file, line: nextLine + skipped },
      cause: failure,
    });
  }
  if (o.signal.aborted) {
    if (lines.length) yield { file: o.file, header: start.header, rows, lines, checkpoint: cp(offset, nextLine, false) };
    return;
  }
  o.progress?.(size, size);
  yield { file: o.file, header: start.header, rows, lines, checkpoint: cp(offset, nextLine, true) };
}
