/** CSV files as a source (contacts.csv, transactions.csv) and a memberships file as a target. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConnector, type Stream } from '../../src/connector/contract.js';
import type { Contact, Transaction } from '../../src/core/records.js';
import { csvConfigSchema, type CsvConfig, type CsvTarget } from './config.js';
import { csvCheckpointSchema, readCsvPages, type CsvRow } from './read.js';
import { mapContact, mapTransaction } from './map.js';
import { csvWriter } from './writer.js';

function stream<T>(
  file: (c: CsvConfig) => string | undefined,
  label: string,
  map: (r: CsvRow, connector: string, c: CsvConfig) => ReturnType<Stream<CsvConfig, T>['parse']>,
): Stream<CsvConfig, T> {
  return {
    checkpointSchema: csvCheckpointSchema,
    async *read(ctx, from, opts) {
      const f = file(ctx.config);
      if (f === undefined) return;
      yield* readCsvPages({
        file: resolve(ctx.baseDir, f),
        label,
        delimiter: ctx.config.delimiter,
        pageSize: opts.pageSize,
        from: from ? csvCheckpointSchema.parse(from) : undefined,
        full: opts.full,
        signal: ctx.signal,
        progress: ctx.progress,
      });
    },
    parse: (raw, { connector, config }) => map(raw as CsvRow, connector, config),
  };
}

export default defineConnector<CsvConfig, CsvTarget>({
  type: 'csv',
  configSchema: csvConfigSchema,
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
    contacts: stream<Contact>((c) => c.contacts, 'contacts', mapContact),
    transactions: stream<Transaction>((c) => c.transactions, 'transactions', mapTransaction),
  },
  writer: csvWriter,
});
