/** `segsync check` lines for Salesforce against the fake org. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { connectorCtx, seedContacts, seedWon, sfConfig } from './helpers.js';
import salesforce from '../../../connectors/salesforce/index.js';
import { tempDir } from '../../support/store-fixture.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

const check = async (connector = '') => {
  const r = await salesforce.check(connectorCtx(sfConfig(tempDir(), org, { connector })));
  return Object.fromEntries(r.lines.map((l) => [l.name, l]));
};

it('reports the org, the user, the API version, the calls left, and what a push needs', async () => {
  const [c] = seedContacts(org, 1);
  seedWon(org, c?.Id as string, 10, '2026-01-01');
  org.insert('Opportunity', { Amount: 5, CloseDate: '2026-01-01', IsWon: true, StageName: 'Won' });
  org.limit.used = 4000;
  org.limit.max = 15000;
  const l = await check();
  expect(l.user).toMatchObject({ ok: true, detail: `integration@example.com (${org.userId})` });
  expect(l.org).toMatchObject({ ok: true, detail: expect.stringContaining(`Fake Org (${org.orgId}, Developer Edition)`) });
  expect(l['API version']).toMatchObject({ ok: true, detail: 'v62.0 (latest v63.0)' });
  expect(l['daily API calls']?.detail).toMatch(/^1099\d of 15000 left today; a job may spend up to 549\d \(maxApiShare 0.5\)$/);
  expect(l['read Contact']).toMatchObject({ ok: true });
  expect(l['read opportunities']).toMatchObject({ ok: true, detail: 'readable; 1 won opportunities have no contact role and count for no customer' });
  expect(l['field Segment__c']).toMatchObject({ ok: true, detail: expect.stringContaining('the first push creates it') });
  expect(l.campaigns).toMatchObject({ ok: true });
});

it('fails the lines whose permissions are missing, each with what to do', async () => {
  org.permissions.customizeApplication = false;
  org.permissions.campaignCreate = false;
  const l = await check('contacts: { properties: [Visits__c] }');
  expect(l['read Contact']).toMatchObject({ ok: false, detail: expect.stringContaining('Visits__c') });
  expect(l['field Segment__c']).toMatchObject({ ok: false, detail: expect.stringContaining('"Customize Application"') });
  expect(l.campaigns).toMatchObject({ ok: false, detail: expect.stringContaining('Create and Edit on Campaigns') });
});

it('stops at one clear line when the session is refused', async () => {
  org.expireTokens();
  const r = await salesforce.check(connectorCtx(sfConfig(tempDir(), org)));
  expect(r.lines).toEqual([{ name: 'user', ok: false, detail: expect.stringMatching(/INVALID_SESSION_ID.*configure oauth or jwt/) }]);
});

it('says when the org does not offer the configured API version', async () => {
  const old = await new FakeOrg({ apiVersion: '58.0' }).start();
  try {
    const r = await salesforce.check(connectorCtx(sfConfig(tempDir(), old, { connector: 'apiVersion: "58.0"' })));
    expect(r.lines.find((l) => l.name === 'API version')).toMatchObject({ ok: false, detail: 'v58.0 is not offered by this org (latest v63.0): set apiVersion' });
  } finally {
    await old.stop();
  }
});
