/**
 * The real-time paths store what a sync stores: a short poll (and a webhook
 * batch, through the same wrapper) applies the privacy allowlist to what it
 * parses, so names and unlisted properties a full sync would drop are dropped.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import salesforce from '../../connectors/salesforce/index.js';
import { pollOnce } from '../../src/realtime/apply.js';
import { syncJob } from '../../src/jobs/sync.js';
import { FakeOrg } from '../connectors/salesforce/fake-org.js';
import { harness, seedContacts, sfEntry } from '../connectors/salesforce/helpers.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

describe('real-time poll and the privacy allowlist', () => {
  it('drops the fields and properties the config does not allow, as a sync does', async () => {
    const rows = seedContacts(org, 4);
    const h = harness(org, { extra: 'privacy: { fields: [country] }' });
    const job = h.job();
    await syncJob(job, h.store.runs.start('sync', 'manual', new Date().toISOString()), { full: true });
    org.update(rows[1]?.Id as string, { FirstName: 'Changed', LeadSource: 'Phone' });
    await pollOnce(job, h.store.runs.start('realtime', 'schedule', new Date().toISOString()), sfEntry(h.config), salesforce);
    const db = new Database(h.store.file, { readonly: true });
    const stored = db.prepare("SELECT external_id, first_name, last_name, country, properties FROM contacts WHERE connector = 'sf' ORDER BY external_id").all();
    db.close();
    expect(stored).toHaveLength(4);
    for (const r of stored as { first_name: string | null; last_name: string | null; country: string | null; properties: string }[]) {
      expect(r).toMatchObject({ first_name: null, last_name: null, properties: '{}' });
      expect(r.country).not.toBeNull();
    }
    h.store.close();
  });
});
