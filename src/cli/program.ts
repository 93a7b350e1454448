/** The CLI contract (DESIGN.md): command names, flags and exit codes. */
import { Command, Option } from 'commander';
import type { GlobalOptions } from './session.js';

// Each command's module loads when it runs: `segsync status` need not load vega, the ML code and
// Fastify (about 0.4 s of start-up for every invocation otherwise).
const pipeline = () => import('./commands/pipeline.js');
const inspect = () => import('./commands/inspect.js');
const setup = () => import('./commands/setup.js');
const report = () => import('./commands/report.js');
const serve = () => import('./commands/serve.js');
const forget = () => import('./commands/forget.js');

export type Exit = (code: number) => void;

export function buildProgram(exit: Exit): Command {
  const program = new Command('segsync')
    .description('Keep CRM segments true to what customers do.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .option('--config <file>', 'config file (default ./segsync.yaml, or $SEGSYNC_CONFIG)')
    .option('--json', 'machine-readable output')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .showHelpAfterError()
    .exitOverride();

  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const run =
    <A extends unknown[]>(fn: (g: GlobalOptions, ...a: A) => Promise<number>) =>
    async (...a: A): Promise<void> => {
      exit(await fn(g(), ...a));
    };

  program.command('init').description('write segsync.yaml and .env.example here').option('--force', 'overwrite existing files')
    .action(run(async (go, o: { force?: boolean }) => (await setup()).initCommand(go, o)));
  program.command('check').description('validate the config and reach every connector')
    .action(run(async (go) => (await setup()).checkCommand(go)));
  program.command('sync').description('pull contacts and transactions into the store')
    .option('--connector <name>', 'only this connector').option('--full', 're-read everything instead of resuming from the checkpoint')
    .action(run(async (go, o: { connector?: string; full?: boolean }) => (await pipeline()).syncCommand(go, o)));
  program.command('segment').description('build features and segment the customers')
    .option('--algorithm <name>', 'auto | kmeans').option('--k <n>', 'a fixed number of segments')
    .action(run(async (go, o: { algorithm?: string; k?: string }) => (await pipeline()).segmentCommand(go, o)));
  program.command('push').description('push segment memberships to the targets')
    .option('--connector <name>', 'only this target').option('--dry-run', 'print the plan, write nothing')
    .option('--approve', 'push even when churn is above push.maxChurn')
    .action(run(async (go, o: { connector?: string; dryRun?: boolean; approve?: boolean }) => (await pipeline()).pushCommand(go, o)));
  program.command('run').description('sync, segment and push in one go')
    .option('--full', 're-read every source').option('--dry-run', 'plan the push, write nothing')
    .action(run(async (go, o: { full?: boolean; dryRun?: boolean }) => (await pipeline()).runCommand(go, o)));
  program.command('serve').description('scheduler, admin API and dashboard (stops cleanly on SIGTERM/SIGINT)')
    .option('--host <address>', 'bind address (default server.host, 127.0.0.1)').option('--port <n>', 'port (default server.port, 8787; 0 picks a free one)')
    .action(run(async (go, o: { host?: string; port?: string }) => (await serve()).serveCommand(go, o)));
  program.command('status').description('store contents, last syncs, active model, quarantine')
    .action(run(async (go) => (await inspect()).statusCommand(go)));
  program.command('runs').description('recent runs').option('--limit <n>', 'how many', '20')
    .action(run(async (go, o: { limit?: string }) => (await inspect()).runsCommand(go, o)));
  program.command('segments').description('the active segments')
    .action(run(async (go) => (await inspect()).segmentsCommand(go)));
  const exp = program.command('export').description('export data from the store');
  exp.command('memberships').description('every contact with its segment')
    .addOption(new Option('--format <format>', 'csv or json').default('csv'))
    .option('--out <file>', 'write to this file instead of stdout')
    .action(run(async (go, o: { format?: string; out?: string }) => (await inspect()).exportMembershipsCommand(go, o)));
  program.command('report').description('write the visual segment report: one self-contained HTML file')
    .option('--out <file>', 'where to write it', 'report.html')
    .action(run(async (go, o: { out?: string }) => (await report()).reportCommand(go, o)));
  program.command('forget').description('erase one person from the store, the pushed state and the log')
    .requiredOption('--email <address>', 'the person\'s email address')
    .action(run(async (go, o: { email?: string }) => (await forget()).forgetCommand(go, o)));
  const demo = program.command('demo').description('the built-in demo data set');
  demo.command('generate').description('write a deterministic demo data set (contacts.csv, transactions.csv)')
    .option('--customers <n>', 'number of customers', '20000').option('--out <dir>', 'output directory', './data/demo')
    .option('--seed <n>', 'random seed', '42')
    .action(run(async (go, o: { customers?: string; out?: string; seed?: string }) => (await setup()).demoGenerateCommand(go, o)));
  for (const c of [...program.commands, ...exp.commands, ...demo.commands]) c.exitOverride();
  return program;
}
