/** What every job needs, built once per CLI invocation (or per scheduled fire). */
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Progress } from '../core/progress.js';
import type { Registry } from '../connector/registry.js';
import type { RetryPolicy } from '../connector/retry.js';
import type { Store } from '../store/index.js';
import type { RunTrigger } from '../store/runs-repo.js';

export interface JobContext {
  config: Config;
  store: Store;
  logger: Logger;
  progress: Progress;
  registry: Registry;
  retry: RetryPolicy;
  now: () => Date;
  signal: AbortSignal;
  trigger: RunTrigger;
}
