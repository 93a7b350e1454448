/** Errors the admin API answers with, and zod validation that names the bad field. */
import type { z } from 'zod';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; in?: string };
  [extra: string]: unknown;
}

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly location: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    opts: { field?: string; in?: string; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.field = opts.field;
    this.location = opts.in;
    this.extra = opts.extra ?? {};
    this.headers = opts.headers ?? {};
  }

  body(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field !== undefined ? { field: this.field } : {}),
        ...(this.location !== undefined ? { in: this.location } : {}),
      },
      ...this.extra,
    };
  }
}

/**
 * Parses a request part with zod; a failure is a 400 naming the first bad
 * field ("full", "limit", "id") and where it was (body, query, params).
 */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'params'): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new HttpError(400, 'INVALID_REQUEST', `invalid ${where}`, { in: where });
  let path = issue.path.map(String);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, ...issue.keys.slice(0, 1)];
    message = `unknown field (accepted: ${acceptedKeys(schema).join(', ') || 'none'})`;
  } else if (issue.code === 'invalid_type' && path.length === 0) {
    message = `expected a JSON object`;
  }
  const field = path.join('.');
  throw new HttpError(400, 'INVALID_REQUEST', `${where}${field ? `.${field}` : ''}: ${message}`, { ...(field ? { field } : {}), in: where });
}

function acceptedKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}
