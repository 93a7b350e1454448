/**
 * `segsync check` for HubSpot: the token is valid, and the private app holds
 * every scope the job needs, one line per scope. The scopes come from HubSpot's
 * token-info endpoint; when that cannot answer (an OAuth token, a proxy), the
 * read scopes are probed with one cheap call each and the write scopes are
 * reported as unverified.
 */
import type { CheckLine, CheckReport, ConnectorContext } from '../../src/connector/contract.js';
import { RemoteError } from '../../src/core/errors.js';
import type { HubspotConfig } from './config.js';
import { HubspotHttpError, hubspotApi, type HubspotApi } from './client.js';
import { HubspotTokenInfo } from './shapes.js';

export interface ScopeNeed {
  scope: string;
  why: string;
  /** A read-only call that needs the scope, for when the token cannot be introspected. */
  probe?: (api: HubspotApi, label: string) => Promise<unknown>;
}

export const REQUIRED_SCOPES: readonly ScopeNeed[] = [
  {
    scope: 'crm.objects.contacts.read',
    why: 'sync contacts (and deal-contact links)',
    probe: (api, label) => api.call(label, (sdk) => sdk.crm.contacts.basicApi.getPage(1)),
  },
  {
    scope: 'crm.objects.deals.read',
    why: 'sync deals and their pipelines',
    probe: (api, label) => api.call(label, (sdk) => sdk.crm.deals.basicApi.getPage(1)),
  },
  { scope: 'crm.objects.contacts.write', why: 'push: set the segment property on contacts' },
  {
    scope: 'crm.lists.read',
    why: 'push: find the segment lists',
    probe: (api, label) => api.call(label, (sdk) => sdk.crm.lists.listsApi.doSearch({ count: 1, offset: 0 })),
  },
  { scope: 'crm.lists.write', why: 'push: create segment lists and change their members' },
  {
    scope: 'crm.schemas.contacts.read',
    why: 'push: read the segment property',
    probe: (api, label) => api.call(label, (sdk) => sdk.crm.properties.groupsApi.getAll('contacts')),
  },
  { scope: 'crm.schemas.contacts.write', why: 'push: create the segment property and keep its options' },
];

const TOKEN_INFO_PATH = '/oauth/v2/private-apps/get/access-token-info';

async function tokenInfo(api: HubspotApi, token: string): Promise<HubspotTokenInfo> {
  const label = 'read access token info';
  return api.call(label, async (sdk) => {
    const res = await sdk.apiRequest({ method: 'POST', path: TOKEN_INFO_PATH, body: { tokenKey: token } });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      throw new HubspotHttpError(res.status, headers, text, body);
    }
    const info = HubspotTokenInfo.safeParse(body);
    if (!info.success) throw new RemoteError('client', `${label}: unexpected answer from ${TOKEN_INFO_PATH}`);
    return info.data;
  });
}

export async function checkHubspot(ctx: ConnectorContext<HubspotConfig>): Promise<CheckReport> {
  const api = hubspotApi(ctx);
  const lines: CheckLine[] = [];
  let info: HubspotTokenInfo | undefined;
  try {
    info = await tokenInfo(api, ctx.config.accessToken);
    lines.push({ name: 'token', ok: true, detail: `valid: HubSpot account ${info.hubId}${info.appId !== undefined ? `, private app ${info.appId}` : ''} at ${ctx.config.baseUrl}` });
  } catch (e) {
    if (e instanceof RemoteError && e.kind === 'auth') {
      lines.push({ name: 'token', ok: false, detail: `${e.message}${e.hint ? ` — ${e.hint}` : ''}` });
      for (const s of REQUIRED_SCOPES) lines.push({ name: s.scope, ok: false, detail: 'not checked: the token was rejected' });
      return { lines };
    }
    if (!(e instanceof RemoteError && e.kind === 'client')) throw e;
    ctx.logger.debug({ err: e.message }, 'token info unavailable; probing scopes instead');
  }

  if (info) {
    const granted = new Set(info.scopes);
    for (const s of REQUIRED_SCOPES) {
      const ok = granted.has(s.scope);
      lines.push({
        name: s.scope,
        ok,
        detail: ok ? `granted (${s.why})` : `MISSING, needed to ${s.why}: tick it under the private app's Scopes in HubSpot, then commit`,
      });
    }
    return { lines };
  }

  // no token info: one cheap read per read scope; write scopes cannot be tested without writing
  let tokenOk = false;
  for (const s of REQUIRED_SCOPES) {
    if (!s.probe) {
      lines.push({ name: s.scope, ok: true, detail: `not verified (HubSpot did not say which scopes the token holds); needed to ${s.why}` });
      continue;
    }
    try {
      await s.probe(api, `check ${s.scope}`);
      tokenOk = true;
      lines.push({ name: s.scope, ok: true, detail: `granted (${s.why})` });
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      lines.push({ name: s.scope, ok: false, detail: `${e.message}${e.hint ? ` — ${e.hint}` : ''}` });
    }
  }
  lines.unshift({ name: 'token', ok: tokenOk, detail: tokenOk ? `accepted at ${ctx.config.baseUrl}` : 'no call succeeded with this token' });
  return { lines };
}
