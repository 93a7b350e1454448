/** forget --email E: erase one person from the store, the pushed state and the log this tool wrote. */
import { existsSync, readFileSync } from 'node:fs';
import { ExitCode, UserError } from '../../core/errors.js';
import { normalizeEmail } from '../../core/normalize.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { withRun } from '../../jobs/with-run.js';
import { ensureEmailMode, privacyPolicy, storedEmail } from '../../privacy/policy.js';
import { openSession, type GlobalOptions } from '../session.js';
import { printJson, printLine } from '../output.js';

/** Drops every log line that mentions the address (or its stored digest); returns how many went. */
async function scrubLog(file: string, needles: readonly string[]): Promise<number> {
  if (!existsSync(file)) return 0;
  const lines = readFileSync(file, 'utf8').split('\n');
  const keep = lines.filter((l) => !needles.some((n) => l.toLowerCase().includes(n)));
  if (keep.length === lines.length) return 0;
  await writeFileAtomic(file, [keep.join('\n')]);
  return lines.length - keep.length;
}

export async function forgetCommand(g: GlobalOptions, o: { email?: string }): Promise<number> {
  const norm = normalizeEmail(o.email);
  if (!norm.ok || norm.value === undefined) {
    throw new UserError('USAGE', `--email needs a valid address${norm.ok ? '' : ` (${norm.reason})`}`, { exitCode: ExitCode.usage, where: { field: '--email' } });
  }
  const email = norm.value;
  const s = openSession(g);
  const policy = privacyPolicy(s.config);
  const stored = storedEmail(policy, email);
  let out;
  try {
    const targets = s.config.push.targets.map((t) => t.connector);
    // the run record keeps counts only: never the address
    out = await withRun(s.ctx, 'forget', async () => {
      // a store built with another email mode would hide the person: refused, with what to do
      ensureEmailMode(s.ctx.store, policy);
      const counts = s.ctx.store.forget.erase(email, targets, { stored });
      return { result: counts, counts: { ...counts } };
    });
  } finally {
    s.close();
  }
  const logLines = await scrubLog(s.config.log.file, [...new Set([email, stored])]);
  const counts = { ...out.counts, logLines };
  if (g.json) printJson({ runId: out.runId, status: out.status, counts });
  else {
    const total = Object.values(counts).reduce((a: number, b) => a + Number(b), 0);
    if (total === 0) printLine('no record of that address in the store');
    else printLine(`erased: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')} (run #${out.runId}; the address itself is not recorded)`);
    printLine('the CRMs keep their own copy: delete the person there too (a deletion there is picked up by the next sync)');
  }
  return 0;
}
