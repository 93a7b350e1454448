/** Connectors by type. Adding a CRM = one folder under connectors/ and one line here. */
import type { AnyConnector } from './contract.js';
import csv from '../../connectors/csv/index.js';
import hubspot from '../../connectors/hubspot/index.js';
import salesforce from '../../connectors/salesforce/index.js';

export interface Registry {
  get(type: string): AnyConnector | undefined;
  types(): string[];
}

export function createRegistry(connectors: readonly AnyConnector[]): Registry {
  const byType = new Map(connectors.map((c) => [c.type, c] as const));
  return { get: (t) => byType.get(t), types: () => [...byType.keys()].sort() };
}

export const defaultRegistry: Registry = createRegistry([csv, hubspot, salesforce]);
