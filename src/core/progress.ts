/**
 * Progress for long steps: a bar on stderr when it is a TTY, otherwise a plain
 * log line at most every few seconds (CI logs, pipes, cron).
 */
import cliProgress from 'cli-progress';
import type { Logger } from './logger.js';

export interface ProgressTask {
  update(done: number, total?: number): void;
  stop(): void;
}

export interface Progress {
  start(label: string, total?: number, unit?: string): ProgressTask;
}

export const noProgress: Progress = {
  start: () => ({ update() {}, stop() {} }),
};

export function createProgress(opts: { tty: boolean; logger: Logger; intervalMs?: number }): Progress {
  const interval = opts.intervalMs ?? 5_000;
  return {
    start(label, total, unit = '') {
      if (opts.tty && total === undefined && !unit) {
        // no measure of progress: say what runs and how long it took
        const t0 = Date.now();
        process.stderr.write(`${label.padEnd(22)} ...`);
        return {
          update() {},
          stop() {
            process.stderr.write(` done in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
          },
        };
      }
      if (opts.tty) {
        const bar = new cliProgress.SingleBar(
          {
            format: `${label.padEnd(22)} {bar} {percentage}% | {value}/{total}${unit ? ` ${unit}` : ''} | {duration_formatted}`,
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total ?? 0, 0);
        return {
          update(done, t) {
            if (t !== undefined && t !== bar.getTotal()) bar.setTotal(t);
            bar.update(done);
          },
          stop() {
            bar.stop();
          },
        };
      }
      let last = Date.now();
      opts.logger.info({ step: label }, `${label}: started`);
      let lastDone = 0;
      let lastTotal = total;
      return {
        update(done, t) {
          lastDone = done;
          if (t !== undefined) lastTotal = t;
          const now = Date.now();
          if (now - last < interval) return;
          last = now;
          opts.logger.info({ step: label, done, total: lastTotal }, `${label}: ${done}${lastTotal ? `/${lastTotal}` : ''} ${unit}`.trim());
        },
        stop() {
          opts.logger.info({ step: label, done: lastDone, total: lastTotal }, `${label}: done`);
        },
      };
    },
  };
}
