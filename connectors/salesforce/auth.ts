/**
 * Access tokens: a fixed token, the OAuth refresh-token flow, or the JWT bearer
 * flow. Token requests go through jsforce's OAuth2 client; they do not count
 * against the org's API limits.
 */
import { createSign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Connection } from 'jsforce/lib/core.js';
import { RemoteError, UserError } from '../../src/core/errors.js';
import type { SalesforceConfig } from './config.js';
import { SalesforceToken, expectShape } from './shapes.js';

export type AuthKind = 'accessToken' | 'oauth' | 'jwt';

export function authKind(c: SalesforceConfig): AuthKind {
  return c.oauth ? 'oauth' : c.jwt ? 'jwt' : 'accessToken';
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function privateKey(c: NonNullable<SalesforceConfig['jwt']>, baseDir: string): string {
  if (c.privateKey !== undefined) return c.privateKey.includes('\\n') ? c.privateKey.replace(/\\n/g, '\n') : c.privateKey;
  const file = resolve(baseDir, c.privateKeyFile ?? '');
  if (!existsSync(file)) {
    throw new UserError('INPUT_NOT_FOUND', 'the JWT private key file does not exist', {
      where: { file, field: 'jwt.privateKeyFile' },
      hint: 'point jwt.privateKeyFile at the PEM key whose certificate is uploaded to the connected app',
    });
  }
  return readFileSync(file, 'utf8');
}

/** A signed JWT bearer assertion (RS256), valid for three minutes. */
export function jwtAssertion(c: NonNullable<SalesforceConfig['jwt']>, baseDir: string, now = Date.now()): string {
  const head = b64url(JSON.stringify({ alg: 'RS256' }));
  const claims = b64url(JSON.stringify({ iss: c.clientId, sub: c.username, aud: c.loginUrl, exp: Math.floor(now / 1000) + 180 }));
  let sig: Buffer;
  try {
    sig = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(privateKey(c, baseDir));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('CONFIG_INVALID', `the JWT private key cannot sign: ${(e as Error).message}`, {
      where: { field: c.privateKeyFile !== undefined ? 'jwt.privateKeyFile' : 'jwt.privateKey' },
      hint: 'use the PEM private key (-----BEGIN PRIVATE KEY-----) of the certificate uploaded to the connected app',
      cause: e,
    });
  }
  return `${head}.${claims}.${b64url(sig)}`;
}

/** OAuth error names that mean the credentials, not the network, are wrong. */
const AUTH_ERRORS = /^(invalid_grant|invalid_client|invalid_client_id|invalid_client_credentials|unsupported_grant_type|invalid_app_access|inactive_user|inactive_org|invalid_request|unauthorized_client)$/;

function tokenError(kind: AuthKind, err: unknown): RemoteError {
  const e = err as Error;
  const name = e.name ?? '';
  if (/^ERROR_HTTP_5\d\d$/.test(name)) return new RemoteError('server', `Salesforce token endpoint failed: ${name}`, { cause: err });
  if (/^ERROR_HTTP_429$/.test(name)) return new RemoteError('rate_limit', 'Salesforce token endpoint: too many requests', { cause: err });
  if (AUTH_ERRORS.test(name) || /^ERROR_HTTP_4\d\d$/.test(name)) {
    const hint =
      kind === 'oauth'
        ? 'the refresh token was revoked or expired, or oauth.clientId / oauth.clientSecret / oauth.loginUrl are wrong: authorize the connected app again and update oauth.refreshToken'
        : 'check jwt.clientId, jwt.username and jwt.loginUrl (login or test), that the connected app holds the certificate of this key, and that the user is pre-authorized for the app (profile or permission set)';
    return new RemoteError('auth', `Salesforce refused the ${kind === 'oauth' ? 'refresh token' : 'JWT bearer'} login: ${name}: ${e.message}`, {
      hint,
      cause: err,
    });
  }
  // no HTTP answer: network trouble, classified by the retry policy through the cause
  return new RemoteError('network', `Salesforce token endpoint unreachable: ${e.message}`, { cause: err });
}

/** Fetches a fresh token with the configured flow (not for accessToken). */
export async function fetchToken(conn: Connection, c: SalesforceConfig, baseDir: string): Promise<SalesforceToken> {
  const kind = authKind(c);
  try {
    if (kind === 'oauth' && c.oauth) {
      return expectShape(SalesforceToken, await conn.oauth2.refreshToken(c.oauth.refreshToken), 'token response');
    }
    if (kind === 'jwt' && c.jwt) {
      const assertion = jwtAssertion(c.jwt, baseDir);
      return expectShape(
        SalesforceToken,
        await conn.oauth2.requestToken({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        'token response',
      );
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw tokenError(kind, e);
  }
  throw new Error('fetchToken called for a fixed access token');
}
