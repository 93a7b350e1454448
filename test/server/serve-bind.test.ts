/** `segsync serve` (built CLI) and its bind rule: beyond loopback only with a token. */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI, demoProject, startServe, TOKEN } from './fixture.js';

describe('segsync serve bind address', () => {
  it('refuses to listen beyond loopback without a token (exit 2, naming server.token); with one it listens', async () => {
    const project = await demoProject(50, { extra: 'server: { token: "${SEGSYNC_ADMIN_TOKEN:-}" }\n' });
    const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
    delete env.SEGSYNC_ADMIN_TOKEN;
    const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], { cwd: project.dir, env, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/CONFIG_INVALID: .*field server\.token: refusing to listen on 0\.0\.0\.0 without an admin token/);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const s = await startServe(project.dir, { args: ['--host', '0.0.0.0'] });
    try {
      expect(s.stderr()).not.toMatch(/admin token for this run/);
      const port = new URL(s.url).port;
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      const status = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(status.status).toBe(200);
    } finally {
      s.child.kill('SIGINT');
      expect((await s.exited).code).toBe(0);
    }
  });
});
