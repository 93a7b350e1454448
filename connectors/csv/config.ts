/** The CSV connector's config entry and push target: schemas only (see ConnectorSpec). */
import { z } from 'zod';
import { defineConnectorSpec } from '../../src/connector/contract.js';

export const CONTACT_COLUMNS = ['id', 'email', 'first_name', 'last_name', 'company', 'country', 'lifecycle_stage', 'created_at', 'updated_at'] as const;
export const TRANSACTION_COLUMNS = ['id', 'contact_id', 'amount', 'currency', 'occurred_at', 'status'] as const;

type ColumnMap<K extends readonly string[]> = z.ZodType<Partial<Record<K[number], string>>>;

const columnMap = <K extends readonly [string, ...string[]]>(keys: K): ColumnMap<K> =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, z.string().min(1).optional()]))) as unknown as ColumnMap<K>;

export const csvConfigSchema = z.strictObject({
  name: z.string(),
  type: z.literal('csv'),
  /** contacts.csv path, relative to the config file */
  contacts: z.string().min(1),
  /** transactions.csv path, relative to the config file (optional for `features.preset: none`) */
  transactions: z.string().min(1).optional(),
  /** Rename columns: canonical name -> the header in your file. */
  columns: z
    .strictObject({
      contacts: columnMap(CONTACT_COLUMNS).optional(),
      transactions: columnMap(TRANSACTION_COLUMNS).optional(),
    })
    .optional(),
  delimiter: z.string().length(1).default(','),
  /** Currency for rows without one. */
  defaultCurrency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 code such as USD').default('USD'),
});

export type CsvConfig = z.infer<typeof csvConfigSchema>;

export const csvTargetSchema = z.strictObject({
  connector: z.string(),
  /** Memberships file written on each push (atomically), relative to the config file. */
  file: z.string().min(1).default('./data/memberships.csv'),
});

export type CsvTarget = z.infer<typeof csvTargetSchema>;

export const csvSpec = defineConnectorSpec<CsvConfig, CsvTarget>({
  type: 'csv',
  configSchema: csvConfigSchema,
  targetSchema: csvTargetSchema,
});
