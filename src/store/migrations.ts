/**
 * Forward-only numbered migrations. The schema version lives in PRAGMA
 * user_version; the file is marked as a segsync store by PRAGMA application_id.
 * Never edit a released migration: add the next one.
 */
export const APPLICATION_ID = 0x53454753; // "SEGS"

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE contacts (
  id              TEXT PRIMARY KEY,          -- "<connector>:<externalId>"
  connector       TEXT NOT NULL,
  external_id     TEXT NOT NULL,
  customer_id     TEXT NOT NULL,
  email           TEXT,
  first_name      TEXT,
  last_name       TEXT,
  company         TEXT,
  country         TEXT,
  lifecycle_stage TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  deleted_at      TEXT,
  properties      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX contacts_customer ON contacts(customer_id);
CREATE INDEX contacts_connector ON contacts(connector, external_id);

CREATE TABLE transactions (
  id          TEXT PRIMARY KEY,
  connector   TEXT NOT NULL,
  external_id TEXT NOT NULL,
  contact_id  TEXT NOT NULL,
  amount      REAL NOT NULL,
  currency    TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  status      TEXT NOT NULL,
  deleted_at  TEXT,
  properties  TEXT NOT NULL DEFAULT '{}'
);
-- no index on contact_id: features scan the whole table, and a random-key index
-- halves bulk insert speed; add one in a migration when a per-contact query needs it

-- one person across CRMs; identity_key is "email:<normalized email>" or "contact:<contact id>"
CREATE TABLE customers (
  id           TEXT PRIMARY KEY,
  identity_key TEXT NOT NULL UNIQUE
);

CREATE TABLE sync_state (
  connector  TEXT NOT NULL,
  stream     TEXT NOT NULL,
  cursor     TEXT NOT NULL,                  -- flat JSON checkpoint
  updated_at TEXT NOT NULL,
  PRIMARY KEY (connector, stream)
);

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,                 -- sync | segment | push | run
  trigger     TEXT NOT NULL,                 -- manual | schedule | webhook
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL,                 -- running | succeeded | failed | held | interrupted | skipped
  counts      TEXT NOT NULL DEFAULT '{}',
  error       TEXT
);

CREATE TABLE quarantine (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL,
  connector   TEXT NOT NULL,
  stream      TEXT NOT NULL,
  external_id TEXT,
  location    TEXT,
  reason      TEXT NOT NULL,
  payload     TEXT NOT NULL
);
CREATE INDEX quarantine_run ON quarantine(run_id);

CREATE TABLE models (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER,
  created_at   TEXT NOT NULL,
  algorithm    TEXT NOT NULL,
  params       TEXT NOT NULL,
  feature_spec TEXT NOT NULL,
  scaler       TEXT NOT NULL,
  centroids    TEXT NOT NULL,
  metrics      TEXT NOT NULL,
  candidates   TEXT NOT NULL DEFAULT '[]',
  status       TEXT NOT NULL                 -- active | retired
);

CREATE TABLE segments (
  id          TEXT PRIMARY KEY,              -- stable across retrains
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  profile     TEXT NOT NULL,
  model_id    INTEGER,
  created_at  TEXT NOT NULL,
  retired_at  TEXT
);

CREATE TABLE memberships (
  customer_id TEXT NOT NULL,
  model_id    INTEGER NOT NULL,
  segment_id  TEXT NOT NULL,
  confidence  REAL,
  distance    REAL,
  PRIMARY KEY (customer_id, model_id)
);
CREATE INDEX memberships_model ON memberships(model_id, segment_id);

-- last state acknowledged by each push target, per remote record
CREATE TABLE pushed (
  target      TEXT NOT NULL,
  external_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  segment_id  TEXT NOT NULL,
  pushed_at   TEXT NOT NULL,
  PRIMARY KEY (target, external_id)
);

-- remote handles of each segment per target (list id, campaign id, file)
CREATE TABLE target_lists (
  target     TEXT NOT NULL,
  segment_id TEXT NOT NULL,
  list_id    TEXT NOT NULL,
  name       TEXT NOT NULL,
  PRIMARY KEY (target, segment_id)
);

CREATE TABLE outbox (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL,
  target      TEXT NOT NULL,
  op_key      TEXT NOT NULL,
  op          TEXT NOT NULL,                 -- add | remove
  external_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  segment_id  TEXT NOT NULL,
  state       TEXT NOT NULL,                 -- pending | done | failed | superseded
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  UNIQUE (run_id, target, op_key)
);
CREATE INDEX outbox_pending ON outbox(target, state);

-- one run per job at a time, across processes: a lease with an expiry
CREATE TABLE locks (
  job        TEXT PRIMARY KEY,
  run_id     INTEGER NOT NULL,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'customers to assign',
    sql: `
-- customers whose records a sync changed since the active model last placed them: the next
-- assignment without retraining places them and clears them; a new model clears them all.
-- Written in the sync page's own transaction, so a crash never loses one.
CREATE TABLE dirty_customers (
  customer_id TEXT PRIMARY KEY
) WITHOUT ROWID;
`,
  },
  {
    version: 3,
    name: 'real-time change events',
    sql: `
-- change notifications (HubSpot webhooks) waiting for or done by a real-time run.
-- (source, event_id) is unique: a redelivered or replayed event is recognised and
-- not processed twice. Done events are pruned after the dedupe retention.
CREATE TABLE change_events (
  id          INTEGER PRIMARY KEY,
  source      TEXT NOT NULL,                 -- connector name
  event_id    TEXT NOT NULL,
  action      TEXT NOT NULL,                 -- upsert | delete | merge
  object_id   TEXT NOT NULL,                 -- the connector's contact id (the surviving one for a merge)
  merged_ids  TEXT NOT NULL DEFAULT '[]',    -- JSON array: ids a merge absorbed
  occurred_at INTEGER NOT NULL,              -- epoch ms, as the source says
  received_at INTEGER NOT NULL,              -- epoch ms
  run_id      INTEGER,                       -- the run that processed it
  done_at     INTEGER,
  UNIQUE (source, event_id)
);
CREATE INDEX change_events_pending ON change_events(source, id) WHERE done_at IS NULL;
CREATE INDEX change_events_done ON change_events(done_at) WHERE done_at IS NOT NULL;
-- a real-time push reads the pushed state of a few customers
CREATE INDEX pushed_customer ON pushed(target, customer_id);
`,
  },
  {
    version: 4,
    name: 'quarantine by record',
    sql: `
-- a record a sync page stores (or its source deletes) clears the rows an earlier read
-- quarantined it with: one statement per page, which probes this index instead of scanning
-- the table (a first load of 10M transactions has 1,000 pages and ~100,000 quarantined rows)
CREATE INDEX quarantine_record ON quarantine(connector, stream, external_id);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
