/**
 * `segsync run` through the built CLI: the first run trains; an incremental
 * run with new orders keeps the model and assigns the synced customers;
 * `run --full` retrains and says why.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempProject, writeCsvConfig } from './helpers.js';

interface RunOut {
  runId: number;
  status: string;
  counts: {
    retrain: { retrain: boolean; reasons: string[] };
    segment?: { modelId: number };
    assign?: { status: string; modelId: number; touched: number; assigned: number; moved: number };
    drift?: { modelId: number; maxPsi: number; max: number };
    push: { modelId: number };
  };
}

const run = (dir: string, args: string[] = []): RunOut => {
  const r = cli(['--json', 'run', ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunOut;
};

describe('segsync run: retrain or assign', () => {
  const dir = tempProject();
  beforeAll(() => {
    writeCsvConfig(dir);
    const g = cli(['demo', 'generate', '--customers', '600', '--out', 'data', '--seed', '11'], { cwd: dir });
    expect(g.code, g.stderr).toBe(0);
  });

  it('trains on the first run, then assigns the synced customers with the same model', () => {
    const first = run(dir);
    expect(first.counts.retrain).toEqual({ retrain: true, reasons: ['no model yet'] });
    const modelId = first.counts.segment!.modelId;

    const contact = readFileSync(join(dir, 'data/contacts.csv'), 'utf8').split('\n')[1]!.split(',')[0]!;
    appendFileSync(join(dir, 'data/transactions.csv'), `tnew1,${contact},99.00,USD,2026-06-29T10:00:00Z,won\n`);
    const second = run(dir);
    expect(second.counts.retrain).toEqual({ retrain: false, reasons: [] });
    expect(second.counts.segment).toBeUndefined();
    expect(second.counts.assign).toMatchObject({ status: 'assigned', modelId });
    // the changed file is re-read: its customers are placed again, the unchanged ones where they were
    expect(second.counts.assign!.touched).toBeGreaterThan(0);
    expect(second.counts.assign!.moved).toBeLessThanOrEqual(1);
    expect(second.counts.push.modelId).toBe(modelId);
    // drift was measured against the model, stored with the run and shown by status
    expect(second.counts.drift).toMatchObject({ modelId, maxPsi: 0.2 });
    expect(second.counts.drift!.max).toBeLessThan(0.2);
    const st = cli(['--json', 'status'], { cwd: dir });
    expect(st.code, st.stderr).toBe(0);
    const drift = (JSON.parse(st.stdout) as { drift: { runId: number; modelId: number; activeModel: boolean; features: { feature: string; psi: number }[] } }).drift;
    expect(drift).toMatchObject({ runId: second.runId, modelId, activeModel: true });
    expect(drift.features).toHaveLength(5);
    const human = cli(['status'], { cwd: dir });
    expect(human.stdout).toContain(`drift (run #${second.runId}`);
    expect(human.stdout).toContain('recency_days');

    const full = run(dir, ['--full']);
    expect(full.counts.retrain).toEqual({ retrain: true, reasons: ['full sync'] });
    expect(full.counts.segment!.modelId).toBeGreaterThan(modelId);

    const again = cli(['run'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('retrained');
    expect(again.stdout).toContain('drift against model #');
  }, 120_000); // six CLI runs, each a fresh process
});
