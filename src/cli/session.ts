/**
 * One CLI invocation's resources: config, logger, store, signal handling.
 * Commands get a JobContext from here and close it when done.
 */
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger, type LogLevel } from '../core/logger.js';
import { createProgress, noProgress } from '../core/progress.js';
import { defaultRegistry, type Registry } from '../connector/registry.js';
import { createRetryPolicy } from '../connector/retry.js';
import { openStore } from '../store/index.js';
import type { JobContext } from '../jobs/context.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  logLevel?: LogLevel;
}

export interface Session {
  config: Config;
  logger: Logger;
  ctx: JobContext;
  close(): void;
}

export function loadSessionConfig(g: GlobalOptions, registry: Registry = defaultRegistry): Config {
  return loadConfig(resolveConfigPath(g.config), { registry });
}

export function openSession(g: GlobalOptions, opts: { readonly?: boolean } = {}): Session {
  const registry = defaultRegistry;
  const config = loadSessionConfig(g, registry);
  const level = g.logLevel ?? config.log.level;
  const toStdout = config.log.file === 'stdout' || config.log.file.endsWith('/stdout');
  const logger = createLogger({
    level,
    ...(toStdout ? { pretty: process.stdout.isTTY === true && !g.json, toStderr: g.json === true } : { file: config.log.file }),
    secrets: config.secrets,
  });
  const store = openStore(config.store, { readonly: opts.readonly ?? false });
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: finishing the current page or batch, then stopping (press again to quit now)\n`);
    logger.warn({ signal: sig }, 'stopping after the current page or batch');
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tty = process.stderr.isTTY === true && !process.env.CI;
  const progress = g.json && !tty ? noProgress : createProgress({ tty, logger });
  const ctx: JobContext = {
    config,
    store,
    logger,
    progress,
    registry,
    retry: createRetryPolicy(),
    now: () => new Date(),
    signal: abort.signal,
    trigger: 'manual',
  };
  return {
    config,
    logger,
    ctx,
    close() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      try {
        if (!opts.readonly) store.checkpoint();
      } catch {
        // best effort: the WAL is folded back on the next open anyway
      }
      store.close();
      logger.flush?.();
    },
  };
}
