/** status, runs, segments and export memberships: read-only views of the store. */
import { resolve } from 'node:path';
import { UserError, ExitCode } from '../../core/errors.js';
import { csvCell, writeFileAtomic } from '../../core/atomic-write.js';
import { openSession, type GlobalOptions } from '../session.js';
import { printJson, printLine } from '../output.js';
import { table, pct } from '../table.js';
import { activeSegments, segmentTable } from '../segment-table.js';
import { privacyPolicy, type PrivacyPolicy } from '../../privacy/policy.js';
import type { PersonalData } from '../../store/status-repo.js';
import type { Store } from '../../store/index.js';
import type { RunRecord } from '../../store/runs-repo.js';
import type { DriftMeasure } from '../../jobs/drift.js';

/** The drift measured by the latest run, with the run it belongs to and whether that model is still the active one. */
function driftView(run: RunRecord | undefined, activeModelId: number | undefined) {
  const d = run?.counts.drift as DriftMeasure | undefined;
  if (!run || !d) return null;
  return { runId: run.id, measuredAt: run.startedAt, activeModel: d.modelId === activeModelId, ...d };
}

export async function statusCommand(g: GlobalOptions): Promise<number> {
  const s = openSession(g);
  try {
    const { store } = s.ctx;
    const counts = store.status.counts();
    const streams = store.status.streams();
    const model = store.models.activeModel();
    const quarantine = store.status.quarantineGroups();
    const runs = store.runs.list(5);
    const personal = personalDataView(store.status.personalData(), privacyPolicy(s.config));
    const drift = driftView(store.runs.lastWithDrift(), model?.id);
    const rejected = rejectedView(s.ctx.store, s.config.push.targets.map((t) => t.connector));
    if (g.json) {
      printJson({
        store: s.config.store,
        counts,
        streams,
        model: model ? { id: model.id, algorithm: model.algorithm, createdAt: model.createdAt, params: model.params, metrics: model.metrics } : null,
        quarantine,
        lastRuns: runs,
        personalData: personal,
        drift,
        pushRejected: rejected,
      });
      return 0;
    }
    printLine(`store: ${s.config.store}`);
    printLine(`customers ${counts.customers}, contacts ${counts.contacts} (${counts.deletedContacts} deleted), transactions ${counts.transactions}, quarantined ${counts.quarantined}`);
    const stored = Object.entries(personal.stored).map(([k, v]) => `${k} (${v} contacts${k === 'email' && personal.hashedEmails ? `, ${personal.hashedEmails === v ? 'all' : personal.hashedEmails} hashed` : ''})`);
    printLine(`personal fields stored: ${stored.length ? stored.join(', ') : 'none'}; properties: ${personal.properties.length ? personal.properties.join(', ') : 'none'}`);
    printLine(`allowed by the config: ${['email', ...personal.allowed.fields].join(', ')}${personal.allowed.hashEmails ? ' (email hashed)' : ''}; properties: ${personal.allowed.properties.join(', ') || 'none'}`);
    if (personal.outsideAllowlist.length) printLine(`  not allowed any more, kept from earlier syncs: ${personal.outsideAllowlist.join(', ')} (\`segsync sync --full\` rewrites every contact)`);
    printLine();
    if (streams.length) {
      printLine(table(['connector', 'stream', 'last sync', 'complete'], streams.map((x) => [x.connector, x.stream, x.updatedAt, (x.cursor as { done?: boolean }).done === false ? 'no (resumes)' : 'yes'])));
      printLine();
    } else printLine('never synced: run `segsync sync`\n');
    if (model) {
      const m = model.metrics as { silhouette?: number; churn?: number | null };
      printLine(`active model #${model.id} (${model.algorithm}, k=${String(model.params.k)}) from ${model.createdAt}; silhouette ${m.silhouette?.toFixed(3) ?? '-'}${m.churn == null ? '' : `, churn ${pct(m.churn)}`}`);
    } else printLine('no model yet: run `segsync segment`');
    if (drift) {
      printLine(
        `drift (run #${drift.runId}, ${drift.customers} customers against model #${drift.modelId}${drift.activeModel ? '' : ', since retrained'}): ` +
          `largest PSI ${drift.max.toFixed(3)}; \`segsync run\` retrains above ${drift.maxPsi}`,
      );
      printLine(table(['feature', 'PSI', ''], drift.features.slice(0, 8).map((f) => [f.feature, f.psi.toFixed(3), f.psi > drift.maxPsi ? 'above threshold' : ''])));
    } else if (model) printLine('drift: not measured yet (`segsync run` measures it)');
    for (const r of rejected) {
      printLine();
      printLine(`push to ${r.target}: ${r.count} record${r.count === 1 ? '' : 's'} rejected by the CRM (deleted or unknown there); the next run checks them again after its sync`);
      for (const x of r.records) printLine(`  run #${x.runId} ${x.op} ${x.externalId}: ${x.error}`);
    }
    if (quarantine.length) {
      printLine();
      printLine(table(['connector', 'stream', 'quarantine reason', 'records'], quarantine.map((q) => [q.connector, q.stream, q.reason, q.count])));
      const last = runs.find((r) => r.kind === 'sync' || r.kind === 'run');
      if (last) {
        const rows = store.status.quarantine(last.id, 10);
        if (rows.length) {
          printLine(`\nfirst quarantined records of run #${last.id}:`);
          for (const q of rows) printLine(`  ${q.location ?? q.externalId ?? '?'}: ${q.reason}`);
        }
      }
    }
    return 0;
  } finally {
    s.close();
  }
}

/** Per push target, the records its last push recorded as rejected (status and status --json). */
function rejectedView(store: Store, targets: readonly string[]) {
  return [...new Set(targets)].flatMap((target) => {
    const count = store.push.outboxCounts(target).rejected ?? 0;
    return count ? [{ target, count, records: store.push.rejected(target, 10) }] : [];
  });
}

/** Personal data in the store next to what the config allows (status and status --json). */
function personalDataView(d: PersonalData, policy: PrivacyPolicy) {
  const stored = Object.fromEntries(Object.entries(d.fields).filter(([, n]) => n > 0));
  const allowedFields = new Set<string>(['email', ...policy.fields]);
  const outside = [
    ...Object.keys(stored).filter((k) => !allowedFields.has(k)),
    ...d.properties.filter((p) => !policy.properties.has(p)).map((p) => `property ${p}`),
  ];
  return {
    stored,
    hashedEmails: d.hashedEmails,
    properties: d.properties,
    allowed: { fields: [...policy.fields], properties: [...policy.properties], hashEmails: policy.hash !== undefined },
    outsideAllowlist: outside,
  };
}

export async function runsCommand(g: GlobalOptions, o: { limit?: string }): Promise<number> {
  const limit = Number(o.limit ?? 20);
  const s = openSession(g);
  try {
    const runs = s.ctx.store.runs.list(Number.isFinite(limit) && limit > 0 ? limit : 20);
    if (g.json) {
      printJson(runs);
      return 0;
    }
    if (runs.length === 0) printLine('no runs yet');
    else
      printLine(
        table(
          ['run', 'kind', 'trigger', 'started', 'status', 'error'],
          runs.map((r) => [`#${r.id}`, r.kind, r.trigger, r.startedAt.replace('T', ' ').slice(0, 19), r.status, (r.error ?? '').slice(0, 80)]),
        ),
      );
    return 0;
  } finally {
    s.close();
  }
}

export async function segmentsCommand(g: GlobalOptions): Promise<number> {
  const s = openSession(g);
  try {
    const segs = activeSegments(s.ctx.store);
    if (g.json) {
      printJson(segs.map((x) => ({ id: x.id, name: x.name, size: x.size, description: x.description, profile: x.profile })));
      return 0;
    }
    if (segs.length === 0) {
      printLine('no segments yet: run `segsync segment`');
      return 0;
    }
    printLine(segmentTable(segs));
    printLine();
    for (const x of segs) printLine(`${x.id}  ${x.name}: ${x.description}`);
    return 0;
  } finally {
    s.close();
  }
}

export const EXPORT_COLUMNS = ['customer_id', 'connector', 'external_id', 'email', 'segment_id', 'segment_name'] as const;

export async function exportMembershipsCommand(g: GlobalOptions, o: { format?: string; out?: string }): Promise<number> {
  const format = o.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') {
    throw new UserError('USAGE', `--format must be csv or json, got "${format}"`, { exitCode: ExitCode.usage, where: { field: '--format' } });
  }
  const s = openSession(g);
  try {
    const model = s.ctx.store.models.activeModel();
    if (!model) throw new UserError('NO_MODEL', 'there are no memberships yet', { hint: 'run `segsync segment` first' });
    const rows = s.ctx.store.status.memberships(model.id);
    const lines = function* (): Generator<string> {
      if (format === 'csv') {
        yield `${EXPORT_COLUMNS.join(',')}\n`;
        for (const r of rows) yield `${[r.customerId, r.connector, r.externalId, r.email, r.segmentId, r.segmentName].map(csvCell).join(',')}\n`;
      } else {
        yield '[';
        let first = true;
        for (const r of rows) {
          yield `${first ? '\n' : ',\n'}${JSON.stringify({ customer_id: r.customerId, connector: r.connector, external_id: r.externalId, email: r.email, segment_id: r.segmentId, segment_name: r.segmentName })}`;
          first = false;
        }
        yield '\n]\n';
      }
    };
    if (o.out) {
      const file = resolve(o.out);
      await writeFileAtomic(file, lines());
      process.stderr.write(`wrote ${file}\n`);
    } else {
      for (const l of lines()) if (!process.stdout.write(l)) await new Promise((r) => process.stdout.once('drain', r));
    }
    return 0;
  } finally {
    s.close();
  }
}
