/**
 * The CSV "writer": a memberships file that mirrors the desired state. Ops are
 * acknowledged as they come; the whole snapshot is written atomically at the end.
 */
import { resolve } from 'node:path';
import type { SegmentWriter } from '../../src/connector/contract.js';
import { csvCell, writeFileAtomic } from '../../src/core/atomic-write.js';
import type { CsvConfig, CsvTarget } from './config.js';

export const MEMBERSHIP_COLUMNS = ['customer_id', 'external_id', 'email', 'segment_id', 'segment_name'] as const;

export const csvWriter: SegmentWriter<CsvConfig, CsvTarget> = {
  maxBatch: 10_000,
  location: (target, baseDir) => resolve(baseDir, target.file),
  async prepare(_ctx, segments) {
    // a file needs no remote lists; the segment name is its handle
    return Object.fromEntries(segments.filter((s) => !s.retired).map((s) => [s.id, s.name]));
  },
  async apply(_ctx, ops) {
    return ops.map((o) => ({ key: o.key, ok: true }));
  },
  async finish(ctx, { snapshot }) {
    const file = resolve(ctx.baseDir, ctx.target.file);
    const rows = function* (): Generator<string> {
      yield `${MEMBERSHIP_COLUMNS.join(',')}\n`;
      for (const r of snapshot) {
        yield `${[r.customerId, r.externalId, r.email, r.segmentId, r.segmentName].map(csvCell).join(',')}\n`;
      }
    };
    await writeFileAtomic(file, rows());
  },
};
