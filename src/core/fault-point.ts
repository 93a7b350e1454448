/**
 * Crash points for the fault suite (test/faults): with
 * SEGSYNC_FAULT_KILL_AT=<step>:<n> in the environment, the n-th call of
 * faultPoint(step) kills the process with SIGKILL, as a power cut would, so a
 * test can stop a CLI run at an exact place that no HTTP request marks (the
 * segment step talks to no CRM). Without the variable it does nothing.
 */
const spec = /^(\w+):(\d+)$/.exec(process.env.SEGSYNC_FAULT_KILL_AT ?? '');
const passed = new Map<string, number>();

export function faultPoint(step: string): void {
  if (spec === null || spec[1] !== step) return;
  const n = (passed.get(step) ?? 0) + 1;
  passed.set(step, n);
  if (n === Number(spec[2])) process.kill(process.pid, 'SIGKILL');
}
