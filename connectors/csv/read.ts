/**
 * Streams a CSV file in pages with a byte-offset checkpoint, so a 5 GB file never
 * sits in memory and a killed sync resumes at the first uncommitted row.
 */
import { createReadStream, statSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { parse } from 'csv-parse';
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
}

export async function* readCsvPages(o: ReadCsvOptions): AsyncGenerator<Page> {
  if (!existsSync(o.file)) {
    throw new UserError('INPUT_NOT_FOUND', `${o.label} file not found`, { where: { file: o.file }, hint: 'check the path in the connector config' });
  }
  const fp = fingerprint(o.file);
  const size = statSync(o.file).size;
  let start: { header: string[]; offset: number; line: number };
  if (!o.full && o.from && o.from.fingerprint === fp) {
    if (o.from.done) return; // unchanged since the last complete read
    start = { header: JSON.parse(o.from.header) as string[], offset: o.from.offset, line: o.from.line };
  } else {
    start = readHeader(o.file, o.delimiter);
  }
  const headerJson = JSON.stringify(start.header);
  const cp = (offset: number, line: number, done: boolean): Checkpoint => ({ fingerprint: fp, offset, line, header: headerJson, done });

  if (start.offset >= size) {
    yield { records: [], checkpoint: cp(start.offset, start.line, true) };
    return;
  }
  const parser = createReadStream(o.file, { start: start.offset, highWaterMark: 1024 * 1024 }).pipe(
    parse({
      delimiter: o.delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      relax_quotes: true,
    }),
  );
  let page: CsvRow[] = [];
  let offset = start.offset;
  let nextLine = start.line;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { bytes: number; lines: number } }>) {
      if (o.signal.aborted) break;
      const endLine = start.line - 1 + rec.info.lines;
      // a quoted cell may span lines: the row starts that many lines before its end
      let inner = 0;
      for (const c of rec.record) if (c.includes('\n')) inner += countNewlines(c);
      page.push({ file: o.file, line: endLine - inner, header: start.header, cells: rec.record });
      offset = start.offset + rec.info.bytes;
      nextLine = endLine + 1;
      if (page.length >= o.pageSize) {
        yield { records: page, checkpoint: cp(offset, nextLine, false) };
        o.progress?.(offset, size);
        page = [];
      }
    }
  } catch (e) {
    const err = e as { code?: string; lines?: number; message: string };
    if (typeof err.code === 'string' && err.code.startsWith('CSV_')) {
      // rows before the broken one are still committed with their checkpoint
      if (page.length) yield { records: page, checkpoint: cp(offset, nextLine, false) };
      throw new UserError('INPUT_INVALID', `cannot parse ${o.label} CSV: ${err.message}`, {
        where: { file: o.file, line: start.line - 1 + (err.lines ?? 0) },
        cause: e,
      });
    }
    throw e;
  } finally {
    parser.destroy();
  }
  if (o.signal.aborted) {
    if (page.length) yield { records: page, checkpoint: cp(offset, nextLine, false) };
    return;
  }
  yield { records: page, checkpoint: cp(offset, nextLine, true) };
  o.progress?.(size, size);
}
