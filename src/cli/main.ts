/**
 * The one top-level handler: a user error prints one line saying what and where
 * and exits with its code; anything else is a bug and prints its stack.
 */
import { CommanderError } from 'commander';
import { ExitCode, isUserError } from '../core/errors.js';
import { buildProgram } from './program.js';

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    return handleError(e);
  }
}

export function handleError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed its message (help, version, unknown option)
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (isUserError(e)) {
    process.stderr.write(`error: ${e.oneLine()}\n`);
    return e.exitCode;
  }
  process.stderr.write(`segsync hit a bug; please report it with this trace:\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return ExitCode.runFailed;
}
