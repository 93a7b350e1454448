/**
 * The store: the only module that writes SQL. Its interface carries no SQLite
 * types so that a PostgreSQL store can stand in later.
 */
import { openDb, translateSqliteError, type OpenOptions } from './open.js';
import { createSyncRepo } from './sync-repo.js';
import { createRunsRepo } from './runs-repo.js';
import { createFeaturesRepo } from './features-repo.js';
import { createModelsRepo } from './models-repo.js';
import { createPushRepo } from './push-repo.js';
import { createStatusRepo } from './status-repo.js';
import { createServeRepo } from './serve-repo.js';
import { createReportRepo } from './report-repo.js';
import { createForgetRepo } from './forget-repo.js';
import { createChangesRepo } from './changes-repo.js';

export function openStore(file: string, opts: OpenOptions = {}) {
  const db = openDb(file, opts);
  const wrap = <T extends object>(repo: T): T => guard(repo, file);
  return {
    file,
    sync: wrap(createSyncRepo(db)),
    runs: wrap(createRunsRepo(db)),
    features: createFeaturesRepo(db),
    models: wrap(createModelsRepo(db)),
    push: wrap(createPushRepo(db)),
    status: wrap(createStatusRepo(db)),
    serve: wrap(createServeRepo(db)),
    report: wrap(createReportRepo(db)),
    forget: wrap(createForgetRepo(db)),
    changes: wrap(createChangesRepo(db)),
    /** Folds the WAL back into the main file (end of a run). */
    checkpoint(): void {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    close(): void {
      if (db.open) db.close();
    },
  };
}

export type Store = ReturnType<typeof openStore>;

/** Turns SQLite failures (busy, disk full, read-only) into clear user errors naming the file. */
function guard<T extends object>(repo: T, file: string): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(repo)) {
    out[k] =
      typeof v === 'function'
        ? (...args: unknown[]) => {
            try {
              return (v as (...a: unknown[]) => unknown)(...args);
            } catch (e) {
              throw translateSqliteError(e, file);
            }
          }
        : v;
  }
  return out as T;
}
