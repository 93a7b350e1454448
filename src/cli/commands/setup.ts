/** init, check and demo generate. */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, UserError } from '../../core/errors.js';
import { generateDemo } from '../../demo/generate.js';
import { createProgress } from '../../core/progress.js';
import { silentLogger } from '../../core/logger.js';
import type { CheckLine } from '../../connector/contract.js';
import { CONFIG_TEMPLATE, ENV_TEMPLATE } from '../templates.js';
import { openSession, type GlobalOptions } from '../session.js';
import { printJson, printLine } from '../output.js';

export async function initCommand(g: GlobalOptions, o: { force?: boolean }): Promise<number> {
  const cfg = resolve(g.config ?? 'segsync.yaml');
  const env = resolve('.env.example');
  for (const f of [cfg, env]) {
    if (existsSync(f) && !o.force) {
      throw new UserError('USAGE', 'already exists; not overwriting', { exitCode: ExitCode.usage, where: { file: f }, hint: 'use --force to overwrite' });
    }
  }
  writeFileSync(cfg, CONFIG_TEMPLATE);
  writeFileSync(env, ENV_TEMPLATE);
  if (g.json) printJson({ config: cfg, env });
  else {
    printLine(`wrote ${cfg}`);
    printLine(`wrote ${env}`);
    printLine('next: edit the connectors, then `segsync check` and `segsync run`');
  }
  return 0;
}

export async function checkCommand(g: GlobalOptions): Promise<number> {
  const s = openSession(g);
  try {
    const lines: (CheckLine & { connector: string })[] = [{ connector: '-', name: 'config', ok: true, detail: s.config.file }];
    lines.push({ connector: '-', name: 'store', ok: true, detail: s.config.store });
    for (const c of s.config.connectors) {
      const def = await s.ctx.registry.load(c.type);
      try {
        const r = await def.check({
          name: c.name,
          config: c.settings,
          logger: s.logger.child({ connector: c.name }),
          signal: s.ctx.signal,
          retry: s.ctx.retry,
          baseDir: s.config.baseDir,
        });
        lines.push(...r.lines.map((l) => ({ ...l, connector: c.name })));
      } catch (e) {
        lines.push({ connector: c.name, name: 'reach', ok: false, detail: e instanceof Error ? e.message : String(e) });
      }
    }
    const ok = lines.every((l) => l.ok);
    if (g.json) printJson({ ok, checks: lines });
    else for (const l of lines) printLine(`${l.ok ? 'ok  ' : 'FAIL'}  ${l.connector.padEnd(12)} ${l.name.padEnd(20)} ${l.detail}`);
    return ok ? 0 : ExitCode.runFailed;
  } finally {
    s.close();
  }
}

export async function demoGenerateCommand(g: GlobalOptions, o: { customers?: string; out?: string; seed?: string }): Promise<number> {
  const customers = Number(o.customers ?? 20_000);
  const seed = Number(o.seed ?? 42);
  if (!Number.isInteger(customers) || customers < 1) {
    throw new UserError('USAGE', `--customers must be a positive whole number, got "${o.customers}"`, { exitCode: ExitCode.usage, where: { field: '--customers' } });
  }
  if (!Number.isInteger(seed)) throw new UserError('USAGE', `--seed must be a whole number, got "${o.seed}"`, { exitCode: ExitCode.usage, where: { field: '--seed' } });
  const outDir = resolve(o.out ?? './data/demo');
  const tty = process.stderr.isTTY === true && !process.env.CI;
  const task = createProgress({ tty, logger: silentLogger() }).start('generate demo data', customers, 'customers');
  const r = await generateDemo({ customers, outDir, seed, onProgress: (d, t) => task.update(d, t) });
  task.stop();
  if (g.json) printJson(r);
  else {
    printLine(`${r.contactsFile}: ${r.contacts} rows`);
    printLine(`${r.transactionsFile}: ${r.transactions} rows`);
    printLine(`${r.dirtyRows} deliberately dirty rows (they show up in quarantine)`);
  }
  return 0;
}
