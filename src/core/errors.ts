/**
 * Typed errors with stable codes. A `UserError` is something the user can fix
 * (config, input, credentials); the top-level handler prints its message on one
 * line and exits with its exit code. Anything else is a bug and gets a stack.
 */

/** Exit codes of the CLI contract (DESIGN.md). */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  locked: 3,
  held: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_ENV_MISSING'
  | 'USAGE'
  | 'STORE_NOT_SEGSYNC'
  | 'STORE_LOCKED'
  | 'STORE_TOO_NEW'
  | 'STORE_IO'
  | 'INPUT_NOT_FOUND'
  | 'INPUT_INVALID'
  | 'CONNECTOR_UNKNOWN'
  | 'CONNECTOR_AUTH'
  | 'CONNECTOR_SCOPE'
  | 'CONNECTOR_RATE_LIMIT'
  | 'CONNECTOR_REMOTE'
  | 'CHECKPOINT_INVALID'
  | 'REJECTION_THRESHOLD'
  | 'NOTHING_TO_SEGMENT'
  | 'NO_MODEL'
  | 'MODEL_INVALID'
  | 'RUN_LOCKED'
  | 'PUSH_HELD'
  | 'ML_INPUT';

export interface Where {
  file?: string;
  line?: number;
  field?: string;
  record?: string;
}

export class UserError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly where: Where;
  /** What the user can do about it, printed after the message. */
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { exitCode?: ExitCode; where?: Where; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.code = code;
    this.exitCode = opts.exitCode ?? ExitCode.runFailed;
    this.where = opts.where ?? {};
    this.hint = opts.hint;
  }

  /** One line: "code: where: message (hint)". */
  oneLine(): string {
    const w = formatWhere(this.where);
    const hint = this.hint ? ` — ${this.hint}` : '';
    return `${this.code}: ${w ? `${w}: ` : ''}${this.message}${hint}`;
  }
}

export function formatWhere(w: Where): string {
  const parts: string[] = [];
  if (w.file) parts.push(w.line !== undefined ? `${w.file}:${w.line}` : w.file);
  if (w.field) parts.push(`field ${w.field}`);
  if (w.record) parts.push(`record ${w.record}`);
  return parts.join(', ');
}

/** Config problems, all collected before we give up. */
export class ConfigError extends UserError {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(
      'CONFIG_INVALID',
      problems.length === 1
        ? `config has 1 problem:\n  - ${problems[0]}`
        : `config has ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { exitCode: ExitCode.usage, where: { file } },
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
  override oneLine(): string {
    return `${this.code}: ${this.where.file}: ${this.message}`;
  }
}

/** Remote (CRM) failures as classified by the retry policy. */
export type RemoteErrorKind = 'network' | 'rate_limit' | 'daily_limit' | 'server' | 'auth' | 'client';

export class RemoteError extends UserError {
  readonly kind: RemoteErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    kind: RemoteErrorKind,
    message: string,
    opts: { status?: number; retryAfterMs?: number; cause?: unknown; hint?: string } = {},
  ) {
    const code: ErrorCode =
      kind === 'auth' ? 'CONNECTOR_AUTH' : kind === 'rate_limit' || kind === 'daily_limit' ? 'CONNECTOR_RATE_LIMIT' : 'CONNECTOR_REMOTE';
    super(code, message, {
      exitCode: ExitCode.runFailed,
      ...(opts.hint !== undefined ? { hint: opts.hint } : {}),
      cause: opts.cause,
    });
    this.name = 'RemoteError';
    this.kind = kind;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
