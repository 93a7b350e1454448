/** `segsync report [--out report.html]`: the visual segment report as one self-contained HTML file. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import type { JobContext } from '../../jobs/context.js';
import { reportOptionsFor, writeReport } from '../../report/index.js';
import { loadSessionConfig, openSession, type GlobalOptions } from '../session.js';
import { printJson, printLine } from '../output.js';

const reportOptions = (ctx: Pick<JobContext, 'config' | 'now'>) => reportOptionsFor(ctx.config, ctx.now);

export async function reportCommand(g: GlobalOptions, o: { out?: string }): Promise<number> {
  const store = loadSessionConfig(g).store;
  if (!existsSync(store)) {
    throw new UserError('INPUT_NOT_FOUND', 'there is no store yet, so nothing to report', { where: { file: store }, hint: 'run `segsync run` (or `segsync sync` then `segsync segment`) first' });
  }
  const s = openSession(g, { readonly: true });
  try {
    const r = await writeReport(s.ctx.store, resolve(o.out ?? 'report.html'), reportOptions(s.ctx));
    if (g.json) printJson(r);
    else printLine(`wrote ${r.file} (${(r.bytes / 1024).toFixed(0)} KB, ${r.segments} segments, ${r.points} customers on the map, ${(r.ms / 1000).toFixed(1)} s)`);
    return 0;
  } finally {
    s.close();
  }
}

/**
 * For `segsync run` (and so `npm start`): writes report.html next to the store
 * and returns what to print — its path, or why it was not written (a report
 * that fails must not turn a run that succeeded into a failure; it is logged).
 */
export async function writeRunReport(ctx: JobContext): Promise<string> {
  try {
    return (await writeReport(ctx.store, join(dirname(resolve(ctx.config.store)), 'report.html'), reportOptions(ctx))).file;
  } catch (e) {
    ctx.logger.error({ err: e }, 'the segment report could not be written');
    return `not written (${e instanceof Error ? e.message : String(e)}; see the run log)`;
  }
}
