/**
 * `segsync check` for Salesforce: who we are (org, user), the API version, the
 * daily API calls left, whether the objects we read are readable, and whether
 * the segment field and the campaign permissions are in place for a push.
 * Each line is independent: one failing check does not hide the others.
 */
import { z } from 'zod';
import type { CheckLine, CheckReport, ConnectorContext } from '../../src/connector/contract.js';
import type { SalesforceConfig } from './config.js';
import { clientFor, type SalesforceClient } from './client.js';
import { SalesforceLimits, SalesforceUserInfo, SalesforceVersions, expectShape } from './shapes.js';
import { quote } from './soql.js';
import { personSpec } from './streams.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function line(name: string, fn: () => Promise<Omit<CheckLine, 'name'>>): Promise<CheckLine> {
  try {
    return { name, ...(await fn()) };
  } catch (e) {
    const hint = (e as { hint?: unknown }).hint;
    return { name, ok: false, detail: `${message(e)}${typeof hint === 'string' ? ` — ${hint}` : ''}` };
  }
}

/** Fields named by a path the describe can confirm (relationship paths are checked by the first query). */
async function missingFields(client: SalesforceClient, object: string, fields: readonly string[]): Promise<string[]> {
  const d = await client.describe(object);
  const have = new Set(d.fields.map((f) => f.name.toLowerCase()));
  return fields.filter((f) => !f.includes('.') && !have.has(f.toLowerCase()));
}

export async function checkSalesforce(ctx: ConnectorContext<SalesforceConfig>, opts: { field?: string | false } = {}): Promise<CheckReport> {
  const cfg = ctx.config;
  const client = clientFor(ctx);
  const field = opts.field ?? 'Segment__c';
  const lines: CheckLine[] = [];

  let userId: string | undefined;
  lines.push(
    await line('user', async () => {
      const r = await client.get('user info', '/services/oauth2/userinfo');
      const u = expectShape(SalesforceUserInfo, r.body, 'user info');
      userId = u.user_id;
      return { ok: true, detail: `${u.preferred_username ?? u.name ?? u.user_id} (${u.user_id})` };
    }),
  );
  // without a session nothing else can work: one clear line is enough
  if (!lines[0]?.ok) return { lines };

  lines.push(
    await line('org', async () => {
      const rows = await client.queryRows(
        'organization',
        'SELECT Id, Name, OrganizationType, IsSandbox FROM Organization',
        z.looseObject({ Id: z.string(), Name: z.string(), OrganizationType: z.string().nullable().optional(), IsSandbox: z.boolean().optional() }),
      );
      const o = rows[0];
      if (!o) return { ok: false, detail: 'the Organization row is not readable' };
      return { ok: true, detail: `${o.Name} (${o.Id}${o.OrganizationType ? `, ${o.OrganizationType}` : ''}${o.IsSandbox ? ', sandbox' : ''}) at ${client.conn.instanceUrl}` };
    }),
  );
  lines.push(
    await line('API version', async () => {
      const r = await client.get('API versions', '/services/data/');
      const versions = expectShape(SalesforceVersions, r.body, 'version list').map((v) => v.version);
      const latest = versions.reduce((a, v) => (Number(v) > Number(a) ? v : a), versions[0] ?? '');
      const ok = versions.includes(cfg.apiVersion);
      return { ok, detail: ok ? `v${cfg.apiVersion} (latest v${latest})` : `v${cfg.apiVersion} is not offered by this org (latest v${latest}): set apiVersion` };
    }),
  );
  lines.push(
    await line('daily API calls', async () => {
      const r = await client.get('limits', '/limits');
      const l = expectShape(SalesforceLimits, r.body, 'limits').DailyApiRequests;
      const share = Math.floor(l.Remaining * cfg.maxApiShare);
      return {
        ok: l.Remaining > 0,
        detail: `${l.Remaining} of ${l.Max} left today; a job may spend up to ${share} (maxApiShare ${cfg.maxApiShare})`,
      };
    }),
  );
  const people: ('Contact' | 'Lead')[] = cfg.includeLeads ? ['Contact', 'Lead'] : ['Contact'];
  for (const obj of people) {
    lines.push(
      await line(`read ${obj}`, async () => {
        const spec = personSpec(obj, cfg);
        const missing = await missingFields(client, obj, spec.fields);
        if (missing.length) return { ok: false, detail: `not visible to the user: ${missing.join(', ')} (check the connector's ${obj === 'Lead' ? 'leads' : 'contacts'} fields and field-level security)` };
        return { ok: true, detail: `${spec.fields.length} fields readable` };
      }),
    );
  }
  if (cfg.transactions.source === 'opportunities') {
    lines.push(
      await line('read opportunities', async () => {
        const m = [...(await missingFields(client, 'Opportunity', ['Amount', 'CloseDate', 'StageName', 'IsWon'])), ...(await missingFields(client, 'OpportunityContactRole', ['ContactId', 'IsPrimary']))];
        if (m.length) return { ok: false, detail: `not visible to the user: ${m.join(', ')}` };
        const r = await client.query('won opportunities without a contact role', 'SELECT COUNT() FROM Opportunity WHERE IsWon = true AND Id NOT IN (SELECT OpportunityId FROM OpportunityContactRole)');
        return {
          ok: true,
          detail: r.totalSize ? `readable; ${r.totalSize} won opportunities have no contact role and count for no customer` : 'readable; every won opportunity has a contact role',
        };
      }),
    );
  } else {
    lines.push(
      await line('read orders', async () => {
        const m = await missingFields(client, 'Order', ['TotalAmount', 'EffectiveDate', 'StatusCode', cfg.transactions.orderContactField]);
        return m.length ? { ok: false, detail: `not visible to the user: ${m.join(', ')}` } : { ok: true, detail: 'readable' };
      }),
    );
  }
  if (field !== false) {
    lines.push(
      await line(`field ${field}`, async () => {
        const d = await client.describe('Contact');
        const f = d.fields.find((x) => x.name.toLowerCase() === field.toLowerCase());
        if (f) {
          if (!f.updateable) return { ok: false, detail: `Contact.${field} exists but the user may not edit it: grant edit access (field-level security)` };
          return { ok: true, detail: `Contact.${field} (${f.type}) is editable` };
        }
        const perms = await client
          .queryRows(
            'user permissions',
            'SELECT PermissionsCustomizeApplication, PermissionsModifyAllData, PermissionsModifyMetadata FROM UserPermissionAccess',
            z.looseObject({ PermissionsCustomizeApplication: z.boolean(), PermissionsModifyAllData: z.boolean(), PermissionsModifyMetadata: z.boolean().optional() }),
          )
          .then((r) => r[0])
          .catch(() => undefined);
        const can = perms && perms.PermissionsCustomizeApplication && (perms.PermissionsModifyAllData || perms.PermissionsModifyMetadata);
        return can
          ? { ok: true, detail: `Contact.${field} is missing; the first push creates it (the user has Customize Application)` }
          : {
              ok: false,
              detail: `Contact.${field} is missing and the user may not create it: create a Picklist or Text(255) field with that API name, editable by the user, or grant "Customize Application" and "Modify Metadata Through Metadata API Functions"`,
            };
      }),
    );
  }
  lines.push(
    await line('campaigns', async () => {
      const camp = await client.describe('Campaign');
      const member = await client.describe('CampaignMember');
      const marketing = userId
        ? (await client.queryRows('marketing user', `SELECT UserPermissionsMarketingUser FROM User WHERE Id = ${quote(userId)}`, z.looseObject({ UserPermissionsMarketingUser: z.boolean() })))[0]
            ?.UserPermissionsMarketingUser
        : undefined;
      const missing: string[] = [];
      if (!camp.createable || !camp.updateable) missing.push('Create and Edit on Campaigns');
      if (!member.createable || !member.deletable) missing.push('Create and Delete on Campaign Members');
      if (marketing === false) missing.push('the "Marketing User" checkbox on the user');
      return missing.length ? { ok: false, detail: `to push campaigns the user needs ${missing.join(', ')}` } : { ok: true, detail: 'the user may create campaigns and add and remove members' };
    }),
  );
  return { lines };
}
