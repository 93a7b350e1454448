/**
 * `segsync serve` (built CLI) with `realtime.hubspot`: the webhook route is
 * wired, signed deliveries start a realtime run with trigger "webhook", and
 * a stop still exits 0 while that run waits on an unreachable HubSpot.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signatureV3 } from '../../connectors/hubspot/webhooks.js';
import { demoProject, startServe, waitFor } from './fixture.js';

const SECRET = 'webhook-secret-for-the-e2e-test';

describe('segsync serve with HubSpot webhooks', () => {
  it('takes signed deliveries, refuses forged ones, and records the realtime run', async () => {
    const project = await demoProject(60, { extra: 'server: { token: "${SEGSYNC_ADMIN_TOKEN}" }\nrealtime:\n  hubspot: { clientSecret: "${HUBSPOT_CLIENT_SECRET}" }\n  batchWindow: 100ms\n' });
    // a HubSpot connector nobody answers for: the run that applies the event cannot fetch, and retries
    const text = readFileSync(project.config, 'utf8').replace('connectors:\n', 'connectors:\n  - { name: hs, type: hubspot, accessToken: pat-na1-e2e, baseUrl: "http://127.0.0.1:9" }\n');
    writeFileSync(project.config, text);
    const s = await startServe(project.dir, { env: { HUBSPOT_CLIENT_SECRET: SECRET } });
    try {
      await waitFor(() => /real-time: HubSpot webhooks at POST \/webhooks\/hubspot for hs/.test(s.stderr()), 10_000, 'the real-time start-up line');
      const url = `${s.url}/webhooks/hubspot`;
      const send = async (secret: string): Promise<{ status: number; body: unknown }> => {
        const body = JSON.stringify([{ eventId: 77, subscriptionType: 'contact.creation', occurredAt: Date.now(), objectId: 1001, portalId: 1, appId: 1, attemptNumber: 0 }]);
        const ts = String(Date.now());
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': ts, 'x-hubspot-signature-v3': signatureV3(secret, 'POST', url, body, ts) },
          body,
        });
        return { status: res.status, body: await res.json() };
      };
      expect((await send('forged-secret')).status).toBe(401);
      expect(await send(SECRET)).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, ignored: 0 } });
      const run = await waitFor(async () => {
        const r = await s.api('/api/runs?kind=realtime');
        return (r.body.items as { trigger: string; kind: string }[])[0];
      }, 10_000, 'a realtime run');
      expect(run).toMatchObject({ kind: 'realtime', trigger: 'webhook' });
    } finally {
      s.child.kill('SIGTERM');
      expect((await s.exited).code).toBe(0);
    }
  });
});
