/**
 * Connectors by type. Adding a CRM = one folder under connectors/ and one line here.
 *
 * The registry holds each type's spec (connectors/<type>/config.ts: zod schemas,
 * no SDK) and imports the implementation (index.ts, which loads the CRM's SDK)
 * the first time something runs it. Loading and validating a config, `status`
 * or `--help` thus never load jsforce (about 0.3 s) or the HubSpot client.
 */
import type { AnyConnector, AnyConnectorSpec } from './contract.js';
import { csvSpec } from '../../connectors/csv/config.js';
import { hubspotSpec } from '../../connectors/hubspot/config.js';
import { salesforceSpec } from '../../connectors/salesforce/config.js';

/** A connector type known by its spec, its implementation imported on demand. */
export interface LazyConnector {
  spec: AnyConnectorSpec;
  load(): Promise<{ default: AnyConnector }>;
}

export interface Registry {
  /** The type's spec (config and target schemas, secret keys): loads no SDK. */
  spec(type: string): AnyConnectorSpec | undefined;
  /** The type's implementation; its module and SDK load on the first call. Rejects for an unknown type. */
  load(type: string): Promise<AnyConnector>;
  types(): string[];
}

export function lazy(spec: AnyConnectorSpec, load: () => Promise<{ default: AnyConnector }>): LazyConnector {
  return { spec, load };
}

/** Entries are lazy connectors or, in tests, connector values (at hand already). */
export function createRegistry(entries: readonly (LazyConnector | AnyConnector)[]): Registry {
  const byType = new Map<string, { spec: AnyConnectorSpec; load: () => Promise<AnyConnector> }>();
  for (const e of entries) {
    if ('spec' in e) {
      let loaded: Promise<AnyConnector> | undefined;
      byType.set(e.spec.type, { spec: e.spec, load: () => (loaded ??= e.load().then((m) => matching(e.spec, m.default))) });
    } else {
      byType.set(e.type, { spec: e, load: () => Promise.resolve(e) });
    }
  }
  return {
    spec: (t) => byType.get(t)?.spec,
    load: (t) => byType.get(t)?.load() ?? Promise.reject(new Error(`unknown connector type ${t} (config validation should have caught this)`)),
    types: () => [...byType.keys()].sort(),
  };
}

/** The config was validated with the spec's schemas: the implementation must use the very same ones. */
function matching(spec: AnyConnectorSpec, impl: AnyConnector): AnyConnector {
  const differs = (['type', 'configSchema', 'targetSchema', 'secretKeys'] as const).filter((k) => impl[k] !== spec[k]);
  if (differs.length) throw new Error(`connector ${spec.type}: index.ts does not match its spec in config.ts (${differs.join(', ')}): spread the spec into defineConnector`);
  return impl;
}

export const defaultRegistry: Registry = createRegistry([
  lazy(csvSpec, () => import('../../connectors/csv/index.js')),
  lazy(hubspotSpec, () => import('../../connectors/hubspot/index.js')),
  lazy(salesforceSpec, () => import('../../connectors/salesforce/index.js')),
]);
