/** Report options from the config: the same for `segsync report`, `segsync run` and the dashboard. */
import type { Config } from '../config/schema.js';
import type { ReportOptions } from './types.js';

export function reportOptionsFor(config: Pick<Config, 'segmentation' | 'connectors'>, now: () => Date): ReportOptions {
  return {
    seed: config.segmentation.seed,
    connectorTypes: Object.fromEntries(config.connectors.map((c) => [c.name, c.type])),
    now,
  };
}
