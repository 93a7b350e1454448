/**
 * The CSV reader finds record boundaries itself and lets csv-parse parse whole
 * records with `info` off. These tests hold its pages — rows, the line each row
 * starts on, checkpoints (byte offset and line of the next row) and page boundaries —
 * against csv-parse reading the same bytes with `info: true`, on hand-written tricky
 * files and on seeded random ones, with reads of a few bytes so every buffer boundary
 * falls somewhere awkward.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readCsvBatches, scannerFallbacks, type CsvBatch, type CsvCheckpoint } from '../../../connectors/csv/read.js';
import { UserError } from '../../../src/core/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'segsync-csv-scan-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function file(text: string | Buffer): string {
  const f = join(dir, `f${n++}.csv`);
  writeFileSync(f, text);
  return f;
}

interface Expected {
  rows: string[][];
  lines: number[];
  /** offset and line after each row */
  after: [number, number][];
  /** set when csv-parse fails: the line of the row it fails in */
  errorLine?: number;
}

const lfCount = (b: Buffer, from: number, to: number): number => {
  let k = 0;
  for (let i = from; i < to; i++) if (b[i] === 10) k++;
  return k;
};

/** What csv-parse (info: true) makes of the rows after the header: cells, start lines from the bytes, offsets. */
function oracle(f: string, delimiter: string, headerEnd: number): Expected {
  const bytes = readFileSync(f);
  const data = bytes.subarray(headerEnd);
  const out: Expected = { rows: [], lines: [], after: [] };
  let failed = false;
  // skip_records_with_error: a quote never closed ends the parse without losing the rows before it
  const records = parse(data, {
    delimiter,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    skip_empty_lines: true,
    relax_quotes: true,
    info: true,
    skip_records_with_error: true,
    on_skip: () => {
      failed = true;
    },
  }) as unknown as { record: string[]; info: { bytes: number } }[];
  let prevEnd = 0;
  for (const rec of records) {
    const end = rec.info.bytes;
    const inner = rec.record.reduce((k, c) => k + (c.match(/\n/g)?.length ?? 0), 0);
    const endsWithLf = data[end - 1] === 10;
    // line 2 is the first after the header; lines are line feeds in the file
    const startLine = 2 + lfCount(data, 0, end) - inner - (endsWithLf ? 1 : 0);
    out.rows.push(rec.record);
    out.lines.push(startLine);
    out.after.push([headerEnd + end, startLine + inner + 1]);
    prevEnd = end;
  }
  if (failed) {
    // the failing row starts after the blank lines that follow the last good one
    let p = prevEnd;
    for (;;) {
      if (data[p] === 10) p++;
      else if (data[p] === 13 && data[p + 1] === 10) p += 2;
      else break;
    }
    out.errorLine = 2 + lfCount(data, 0, p);
  }
  return out;
}

async function readAll(
  f: string,
  o: { delimiter?: string; pageSize?: number; readBytes?: number; from?: CsvCheckpoint; reference?: boolean } = {},
): Promise<{ batches: CsvBatch[]; error?: unknown }> {
  const batches: CsvBatch[] = [];
  try {
    for await (const b of readCsvBatches({
      file: f,
      label: 'contacts',
      delimiter: o.delimiter ?? ',',
      pageSize: o.pageSize ?? 3,
      from: o.from,
      full: false,
      signal: new AbortController().signal,
      readBytes: o.readBytes,
      reference: o.reference,
    })) {
      batches.push(b);
    }
    return { batches };
  } catch (error) {
    return { batches, error };
  }
}

const headerBytes = (text: Buffer): number => text.indexOf(10) + 1;

/** Checks every page against the oracle, then resumes from every checkpoint and checks the rest. */
async function check(text: string | Buffer, delimiter = ',', pageSize = 3, readBytes?: number, reference = false): Promise<void> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const f = file(bytes);
  const want = oracle(f, delimiter, headerBytes(bytes));
  const fallbacks = scannerFallbacks();
  const { batches, error } = await readAll(f, { delimiter, pageSize, readBytes, reference });
  // the scanner never needed csv-parse's help
  expect(scannerFallbacks()).toBe(fallbacks);
  const ctx = JSON.stringify(bytes.toString('utf8'));
  expect(batches.flatMap((b) => b.rows), ctx).toEqual(want.rows);
  expect(batches.flatMap((b) => b.lines), ctx).toEqual(want.lines);
  // pages hold pageSize rows; each checkpoint points right after its last row
  let k = 0;
  for (const [i, b] of batches.entries()) {
    const cp = b.checkpoint as unknown as CsvCheckpoint;
    if (b.rows.length > 0) {
      k += b.rows.length;
      expect([cp.offset, cp.line], ctx).toEqual(want.after[k - 1]);
    }
    // only the last page is short: done, or the rows before a row that cannot be parsed
    if (i < batches.length - 1) expect(b.rows.length, ctx).toBe(pageSize);
  }
  if (want.errorLine !== undefined) {
    expect(error, ctx).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('INPUT_INVALID');
    expect((error as UserError).where).toEqual({ file: f, line: want.errorLine });
    expect(batches.every((b) => !(b.checkpoint as unknown as CsvCheckpoint).done)).toBe(true);
  } else {
    expect(error, ctx).toBeUndefined();
    const last = batches[batches.length - 1]!.checkpoint as unknown as CsvCheckpoint;
    expect(last.done, ctx).toBe(true);
    expect(batches.slice(0, -1).every((b) => b.rows.length === pageSize)).toBe(true);
  }
  // resuming from any checkpoint reads exactly the rows after it
  for (let i = 0; i < batches.length; i++) {
    const cp = batches[i]!.checkpoint as unknown as CsvCheckpoint;
    if (cp.done) continue;
    const rest = await readAll(f, { delimiter, pageSize, readBytes, from: cp, reference });
    const before = batches.slice(0, i + 1).reduce((s, b) => s + b.rows.length, 0);
    expect(rest.batches.flatMap((b) => b.lines), ctx).toEqual(want.lines.slice(before));
    expect(rest.batches.flatMap((b) => b.rows), ctx).toEqual(want.rows.slice(before));
  }
}

describe('readCsvBatches: tricky files', () => {
  const cases: [string, string, string?][] = [
    ['plain LF', 'id,note\n1,a\n2,b\n3,c\n4,d\n'],
    ['no final line feed', 'id,note\n1,a\n2,b\n3,c'],
    ['CRLF', 'id,note\r\n1,a\r\n2,b\r\n3,c\r\n4,d\r\n'],
    ['mixed line ends', 'id,note\n1,a\r\n2,b\n3,c\r\n4,d'],
    ['quoted LF in a cell', 'id,note\n1,"a\nb"\n2,b\n3,"x\n\ny"\n4,d\n'],
    ['quoted CRLF in a cell', 'id,note\r\n1,"a\r\nb"\r\n2,b\r\n3,"x\r\n\r\ny"\r\n4,d\r\n'],
    ['blank lines everywhere', 'id,note\n\n1,a\n\n\n2,b\r\n\r\n3,c\n\n4,d\n\n\n'],
    ['escaped quotes and delimiters in quotes', 'id,note\n1,"say ""hi"", then go"\n2,"a,b"\n3,""\n4,""""\n5,"x""\ny"\n'],
    ['quotes that are data (relax_quotes)', 'id,note\n1,5" screen\n2,"a"b\n3,x"y"z\n4,"a" "b"\n5,"quoted"\n'],
    ['a quote closing at the end of the file', 'id,note\n1,a\n2,"b\nc"'],
    ['a carriage return alone is data', 'id,note\n1,a\rb\n2,"x"\ry\n3,c\r'],
    ['carriage returns as data, no quotes', 'id,note\n1,a\rb\r\n2,\r\r\n\r\n3,c\r'],
    ['empty cells and a row of one space', 'id,note\n1,\n,\n \n"",""\n'],
    ['wrong column counts', 'id,note\n1\n2,a,b,c\n3,"x",\n'],
    ['multi-byte text', 'id,name\n1,Jürgen\n2,"Zoë\nÅdne"\n3,中文,"é"\n'],
    ['a quote never closed', 'id,note\n1,a\n2,"never closed\n3,c\n'],
    ['a quote never closed after blank lines', 'id,note\n1,a\n2,b\n3,c\n\n\n4,"open\n'],
    ['semicolons', 'id;note\n1;"a;b"\n2;"x\ny";z\n3;c', ';'],
    ['a multi-byte delimiter', 'id§note\n1§"a§b"\n2§"x\ny"§z\n3§c"d\n4§"e"§\n', '§'],
    ['tabs', 'id\tnote\n1\t"a\tb"\n2\t"x""y"\n', '\t'],
  ];
  for (const [name, text, delimiter] of cases) {
    it(name, async () => {
      for (const pageSize of [1, 2, 3, 100]) {
        for (const readBytes of [1, 2, 3, 5, 8, 64, undefined]) await check(text, delimiter ?? ',', pageSize, readBytes);
        // and csv-parse alone with info, the path a disagreement would fall back to
        await check(text, delimiter ?? ',', pageSize, undefined, true);
      }
    });
  }

  it('gives the line a multi-line row starts on, and the next line in the checkpoint', async () => {
    const f = file('id,note\r\n1,"first\r\nsecond"\r\n2,after\r\n');
    const { batches } = await readAll(f, { pageSize: 1 });
    expect(batches.map((b) => b.lines)).toEqual([[2], [4], []]);
    expect((batches[0]!.checkpoint as unknown as CsvCheckpoint).line).toBe(4);
    expect(batches[0]!.rows[0]).toEqual(['1', 'first\r\nsecond']);
  });

  it('names the line where an unclosed quote opens and keeps the rows before it', async () => {
    const f = file('id,note\n1,a\n2,b\n\n3,"never\nclosed\n4,x\n');
    const { batches, error } = await readAll(f, { pageSize: 10 });
    expect(batches.flatMap((b) => b.lines)).toEqual([2, 3]);
    expect((batches[0]!.checkpoint as unknown as CsvCheckpoint).line).toBe(4);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).where).toEqual({ file: f, line: 5 });
    expect((error as UserError).message).toMatch(/never closed/);
  });
});

/** Seeded random CSV text: rows of cells, some quoted with quotes, delimiters and line breaks inside; some broken. */
function randomCsv(seed: number, delimiter: string): string {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const eol = (): string => pick(['\n', '\n', '\r\n', '\r\n', '\n\n', '\r\n\r\n', '\n\r\n']);
  const plain = ['a', 'bc', 'x y', '', ' ', 'é', '1.5', 'q"x', '\r'];
  const quoted = ['a', '', 'a""b', `a${delimiter}b`, 'l1\nl2', 'l1\r\nl2', '""', '\n', 'x\r\n\r\ny'];
  const cols = 1 + Math.floor(rnd() * 4);
  let out = `${Array.from({ length: cols }, (_, i) => `h${i}`).join(delimiter)}\n`;
  const rows = Math.floor(rnd() * 12);
  for (let r = 0; r < rows; r++) {
    const cells = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
      const k = rnd();
      if (k < 0.5) return pick(plain);
      if (k < 0.93) return `"${pick(quoted)}"${rnd() < 0.1 ? pick(['x', ' ', '"']) : ''}`;
      return `"${pick(quoted)}`; // never closed (unless a later quote closes it)
    });
    out += cells.join(delimiter) + (r === rows - 1 && rnd() < 0.3 ? '' : eol());
  }
  return out;
}

describe('readCsvBatches: seeded random files', () => {
  for (const delimiter of [',', ';', '§']) {
    it(`agrees with csv-parse on 300 random files (delimiter ${JSON.stringify(delimiter)})`, async () => {
      for (let seed = 1; seed <= 300; seed++) {
        const text = randomCsv(seed * 7919 + delimiter.charCodeAt(0), delimiter);
        await check(text, delimiter, 1 + (seed % 4), seed % 3 === 0 ? undefined : 1 + (seed % 7));
        if (seed % 5 === 0) await check(text, delimiter, 1 + (seed % 4), undefined, true);
      }
    }, 60_000);
  }
});
