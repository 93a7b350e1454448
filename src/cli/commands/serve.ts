/**
 * `segsync serve`: the scheduler, the admin API and the dashboard in one
 * long-running process, sharing one store connection.
 *
 * SIGTERM / SIGINT: no new runs (the cron tasks stop, POSTs answer 503), the
 * running job is aborted so its current page or batch commits and it ends
 * "interrupted", the server closes, exit 0 — all within 10 s. A second signal
 * quits at once (the session's handler). The next start runs the interrupted
 * job again; sync resumes from its checkpoints.
 */
import { ExitCode, UserError } from '../../core/errors.js';
import { createProgress } from '../../core/progress.js';
import { generateToken, isLoopbackHost } from '../../server/auth.js';
import type { BaseContext } from '../../server/views.js';
import { openSession, type GlobalOptions } from '../session.js';

/** Budget for the running job to commit its page and stop (the whole shutdown stays under 10 s). */
const STOP_JOB_MS = 8_000;
const CLOSE_SERVER_MS = 1_000;

export interface ServeOptions {
  host?: string;
  port?: string;
}

function parsePort(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new UserError('USAGE', `--port must be a whole number from 0 to 65535, got "${v}"`, { exitCode: ExitCode.usage, where: { field: '--port' } });
  }
  return n;
}

export async function serveCommand(g: GlobalOptions, o: ServeOptions): Promise<number> {
  const portFlag = parsePort(o.port);
  const s = openSession(g);
  try {
    const cfg = s.config.server;
    const host = o.host ?? cfg.host;
    const port = portFlag ?? cfg.port;
    const configured = cfg.token !== undefined && cfg.token !== '' ? cfg.token : undefined;
    if (!isLoopbackHost(host) && configured === undefined) {
      throw new UserError('CONFIG_INVALID', `refusing to listen on ${host} without an admin token: anyone who can reach it could run jobs`, {
        exitCode: ExitCode.usage,
        where: { file: s.config.file, field: 'server.token' },
        hint: 'set server.token: ${SEGSYNC_ADMIN_TOKEN} and export SEGSYNC_ADMIN_TOKEN (16+ characters), or bind 127.0.0.1',
      });
    }
    const token = configured ?? generateToken();

    // loaded here, not at start-up: every other command would pay for Fastify's import
    const [{ JobRunner }, { Scheduler }, { buildServer }, { startRealtime }] = await Promise.all([
      import('../../schedule/runner.js'),
      import('../../schedule/scheduler.js'),
      import('../../server/app.js'),
      import('../../realtime/wiring.js'),
    ]);
    const { trigger: _trigger, signal: _signal, ...rest } = s.ctx;
    // many jobs over a long time: progress as log lines, never a terminal bar
    const base: BaseContext = { ...rest, progress: createProgress({ tty: false, logger: s.logger }) };
    const runner = new JobRunner({ base });
    const scheduler = new Scheduler({ runner, store: base.store, logger: s.logger, schedule: s.config.schedule, now: base.now });
    const realtime = await startRealtime({ config: s.config, registry: base.registry, runner, store: base.store, logger: s.logger });
    const app = await buildServer({ ctx: base, runner, scheduler, token, ...(realtime.webhooks ? { webhooks: realtime.webhooks } : {}) });

    let address: string;
    try {
      address = await app.listen({ host, port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
        throw new UserError('USAGE', `cannot listen on ${host}:${port} (${code})`, {
          exitCode: ExitCode.usage,
          where: { file: s.config.file, field: code === 'EADDRINUSE' || code === 'EACCES' ? 'server.port' : 'server.host' },
          hint: code === 'EADDRINUSE' ? 'another process uses that port: stop it, or set server.port (or --port)' : 'check server.host and server.port',
          cause: e,
        });
      }
      throw e;
    }
    const url = `${address}/`;
    process.stderr.write(`segsync serve: admin API and dashboard on ${url} (pid ${process.pid})\n`);
    if (configured === undefined) {
      process.stderr.write(`admin token for this run (set server.token to choose a lasting one): ${token}\n`);
    }
    const jobs = scheduler.jobs();
    if (g.json) process.stdout.write(`${JSON.stringify({ url, pid: process.pid, generatedToken: configured === undefined })}\n`);
    s.logger.info({ url, host, port, schedule: jobs.map((j) => `${j.job}: ${j.cron}`) }, 'segsync serve listening');

    const stopping = new Promise<void>((resolve) => {
      if (s.ctx.signal.aborted) resolve();
      else s.ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    scheduler.start();
    process.stderr.write(jobs.length ? `schedule (${s.config.schedule?.timezone}): ${jobs.map((j) => `${j.job} ${j.cron}`).join(', ')}\n` : 'no schedule: jobs run when asked (dashboard, API, CLI)\n');
    scheduler.resumeInterrupted().catch((e: unknown) => s.logger.error({ err: e }, 'resuming interrupted runs failed'));
    realtime.start();
    if (realtime.describe.length) process.stderr.write(`real-time: ${realtime.describe.join(', ')}\n`);

    await stopping;
    const t0 = Date.now();
    scheduler.stop();
    realtime.stop();
    const active = runner.running();
    const clean = await runner.stop(STOP_JOB_MS);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([app.close(), new Promise<void>((r) => (timer = setTimeout(r, CLOSE_SERVER_MS)))]);
    clearTimeout(timer);
    const what = active.length ? `run ${active.map((a) => `#${a.runId} (${a.kind})`).join(', ')} ${clean ? 'stopped after its current page or batch' : 'did not stop in time'}; marked interrupted` : 'no run was in progress';
    process.stderr.write(`segsync serve stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);
    s.logger.info({ runs: active.map((a) => a.runId), clean }, 'segsync serve stopped');
    // anything still holding the event loop (a job that would not stop) must not keep us past the deadline
    setTimeout(() => process.exit(ExitCode.ok), 500).unref();
    return ExitCode.ok;
  } finally {
    s.close();
  }
}
