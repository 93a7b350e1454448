/** Bearer token checks and the bind-address rule of the admin API. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * A checker for `Authorization: Bearer <token>`. Both sides are hashed first so
 * the comparison takes the same time whatever the length or content of the
 * guess (timingSafeEqual needs equal lengths).
 */
export function bearerChecker(token: string): (header: string | undefined) => boolean {
  if (token.length === 0) throw new Error('an empty admin token would let everyone in');
  const want = digest(token);
  return (header) => {
    if (typeof header !== 'string') return false;
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const got = digest(m?.[1] ?? '');
    // compare even when the header is malformed, so that path takes the same time
    return timingSafeEqual(got, want) && m !== null;
  };
}

/** A random token for a loopback server started without one. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** 127.0.0.0/8, ::1, localhost and the IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){5}ffff:127\./.test(h) || h.startsWith('::ffff:127.');
  return false;
}
