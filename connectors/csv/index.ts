/** CSV files as a source (contacts.csv, transactions.csv) and a memberships file as a target. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConnector, type Stream } from '../../src/connector/contract.js';
import type { Contact, ParseResult, Transaction } from '../../src/core/records.js';
import { csvSpec, type CsvConfig, type CsvTarget } from './config.js';
import { csvCheckpointSchema } from './read.js';
import { parsedPages, type CsvStreamName } from './parsed-pages.js';
import { csvWriter } from './writer.js';

function isParseResult<T>(raw: unknown): raw is ParseResult<T> {
  return typeof raw === 'object' && raw !== null && typeof (raw as { ok?: unknown }).ok === 'boolean';
}

/**
 * Rows per page (one transaction each) unless the config sets sync.pageSize. Every
 * commit writes each index page its rows touched. Contacts feed three indexes on
 * random keys (customers by id and by identity, contacts by customer), where a page
 * touches a leaf per row, so fewer, bigger commits write far less: 1M contacts cost
 * 36 s of CPU in 5,000-row pages and 25 s in 50,000-row ones. Transactions have
 * sequential keys; past 10,000 rows a bigger page saves nothing and costs memory.
 */
const CSV_PAGE_SIZE: Record<CsvStreamName, number> = { contacts: 50_000, transactions: 10_000 };

/**
 * Rows are parsed and mapped while they are read (on a worker thread), so the
 * records a page carries are already ParseResults and parse() hands them on.
 */
function stream<T>(name: CsvStreamName, file: (c: CsvConfig) => string | undefined): Stream<CsvConfig, T> {
  return {
    checkpointSchema: csvCheckpointSchema,
    defaultPageSize: CSV_PAGE_SIZE[name],
    async *read(ctx, from, opts) {
      const f = file(ctx.config);
      if (f === undefined) return;
      yield* parsedPages(
        {
          stream: name,
          file: resolve(ctx.baseDir, f),
          label: name,
          pageSize: opts.pageSize,
          from: from ? csvCheckpointSchema.parse(from) : undefined,
          full: opts.full,
          connector: ctx.name,
          config: ctx.config,
        },
        ctx.signal,
        ctx.progress,
      );
    },
    parse(raw) {
      if (!isParseResult<T>(raw)) throw new Error('csv stream: a page record is not a parse result');
      return raw;
    },
  };
}

export default defineConnector<CsvConfig, CsvTarget>({
  ...csvSpec,
  async check(ctx) {
    const files: [string, string | undefined][] = [['contacts', ctx.config.contacts], ['transactions', ctx.config.transactions]];
    const lines = files
      .flatMap(([name, f]) => (f === undefined ? [] : [[name, f] as const]))
      .map(([name, f]) => {
        const p = resolve(ctx.baseDir, f);
        const ok = existsSync(p) && statSync(p).isFile();
        return { name: `${name} file`, ok, detail: ok ? `${p} (${statSync(p).size} bytes)` : `${p} not found` };
      });
    return { lines };
  },
  streams: {
    contacts: stream<Contact>('contacts', (c) => c.contacts),
    transactions: stream<Transaction>('transactions', (c) => c.transactions),
  },
  writer: csvWriter,
});
