/** `segsync report` through the built CLI: writes the file, says where, works before any model exists. */
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../e2e/helpers.js';
import { openTestStore, tempDir } from '../support/store-fixture.js';
import { buildReportStore, marks, parse, type ReportFixture } from './fixture.js';

function writeConfig(dir: string): string {
  const file = join(dir, 'segsync.yaml');
  writeFileSync(
    file,
    `store: ./store.db
log: { level: silent, file: ./log.jsonl }
connectors:
  - { name: files, type: csv, contacts: ./contacts.csv, transactions: ./transactions.csv }
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: { min: 3, max: 5 }, nInit: 2, silhouetteSample: 2000 }
`,
  );
  return file;
}

let fx: ReportFixture;
let segments = 0;
beforeAll(async () => {
  fx = await buildReportStore({ customers: 300, idle: 20 });
  segments = fx.store.models.segments().length;
  fx.store.close();
});

describe('segsync report (CLI)', () => {
  it('writes the report where --out says; --json says what it wrote', () => {
    const config = writeConfig(fx.dir);
    const out = join(fx.dir, 'reports', 'segments.html');
    const r = cli(['--config', config, '--json', 'report', '--out', out], { cwd: fx.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: out, points: 300, segments });
    const doc = parse(readFileSync(out, 'utf8'));
    expect(marks(doc, 'segment-map', 'points')).toHaveLength(300);
  });

  it('defaults to ./report.html and writes a report that says what to do when there is no model yet', () => {
    const dir = tempDir();
    openTestStore(dir).close();
    const config = writeConfig(dir);
    const r = cli(['--config', config, 'report'], { cwd: dir });
    expect(r.code).toBe(0);
    const file = join(dir, 'report.html');
    expect(r.stdout).toMatch(new RegExp(`^wrote ${file} \\(\\d+ KB, 0 segments, 0 customers on the map, [\\d.]+ s\\)\\n$`));
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('run `segsync segment`');
  });

  it('says there is nothing to report yet when the store does not exist', () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const r = cli(['--config', config, 'report'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: INPUT_NOT_FOUND: ${join(dir, 'store.db')}: there is no store yet, so nothing to report — run \`segsync run\` (or \`segsync sync\` then \`segsync segment\`) first\n`);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });
});
