/** The built CLI as a child process, for the scenarios that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const CLI = join(resolve(import.meta.dirname, '../../..'), 'dist/src/cli.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  exit: Promise<Exit>;
}

/** `as`: run as this uid (and gid), when the tests run as root */
export function startCli(args: string[], o: { cwd: string; env?: Record<string, string>; as?: number }): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: o.cwd,
    env: { ...process.env, CI: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.as !== undefined ? { uid: o.as, gid: o.as } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<Exit>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, exit };
}

/** `{ runId, status, counts }` that `--json` prints, or undefined. */
export function jsonOut(e: Exit): { runId: number; status: string; counts: Record<string, unknown> } | undefined {
  try {
    return JSON.parse(e.stdout) as { runId: number; status: string; counts: Record<string, unknown> };
  } catch {
    return undefined;
  }
}
