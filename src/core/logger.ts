/**
 * pino logger: JSON to a file or stdout, pretty on a TTY, secrets redacted.
 * Redaction is by key path (pino's redact) plus a value scrub for known secret
 * values, so a token that ends up inside a message string is masked too.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const SECRET_KEYS = [
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'clientSecret', 'client_secret',
  'password', 'secret', 'privateKey', 'private_key', 'apiKey', 'api_key', 'authorization', 'Authorization',
  'emailHashKey',
];

export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'config.connectors[*].accessToken',
  'config.connectors[*].oauth.clientSecret',
  'config.connectors[*].oauth.refreshToken',
  'config.server.token',
];

export const REDACTED = '[redacted]';

/** Masks every occurrence of the known secret values inside a string. */
export function makeScrubber(secrets: readonly string[]): (s: string) => string {
  const live = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (s) => {
    let out = s;
    for (const v of live) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, `$1${REDACTED}`);
  };
}

export interface LoggerOptions {
  level: LogLevel;
  /** File path for JSON lines; undefined = stdout (or stderr when stdout carries --json output). */
  file?: string;
  /** Pretty-print (only when writing to a TTY). */
  pretty?: boolean;
  /** Write to stderr instead of stdout when no file is set. */
  toStderr?: boolean;
  /** Secret values to scrub out of every line. */
  secrets?: readonly string[];
}

/** A destination wrapper that scrubs secret values from each serialised line. */
function scrubbing(dest: DestinationStream, scrub: (s: string) => string): DestinationStream {
  return { write: (line: string) => dest.write(scrub(line)) } as DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const scrub = makeScrubber(opts.secrets ?? []);
  const base = { redact: { paths: REDACT_PATHS, censor: REDACTED }, level: opts.level } as const;
  let dest: DestinationStream;
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    dest = pino.destination({ dest: opts.file, sync: true, mkdir: true });
  } else if (opts.pretty) {
    // pino-pretty in-process (no worker thread) keeps output ordered with our own stderr writes
    dest = prettyStream(opts.toStderr ? 2 : 1);
  } else {
    dest = pino.destination({ dest: opts.toStderr ? 2 : 1, sync: true });
  }
  return pino(base, scrubbing(dest, scrub));
}

function prettyStream(fd: 1 | 2): DestinationStream {
  return pinoPretty({ destination: fd, colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
}

/** A logger that drops everything; for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
