/** What `segsync init` writes: a commented config and the environment variables it names. */
export const CONFIG_TEMPLATE = `# segsync configuration. Every key is documented in README.md ("Config reference").
# Relative paths resolve against this file's directory. Secrets come from the
# environment: \${NAME} is replaced by the variable NAME (\${NAME:-default} gives a default).

# SQLite feature store (created on first use).
store: ./data/segsync.db

log:
  level: info                 # fatal | error | warn | info | debug | trace | silent
  file: ./data/segsync.log    # JSON lines; "stdout" to print them instead

connectors:
  # CSV files: contacts.csv and transactions.csv (columns in README.md).
  - name: files
    type: csv
    contacts: ./data/contacts.csv
    transactions: ./data/transactions.csv
    defaultCurrency: USD
    # columns:                # rename columns: canonical name -> your header
    #   contacts: { id: customer_id, email: email_address }
    #   transactions: { occurred_at: order_date }

sync:
  # pageSize: 5000            # records per page, each committed with its checkpoint (default: CSV contacts 50000, transactions 10000; CRMs 5000)
  maxRejectedShare: 0.2       # fail the run when more than this share is quarantined

features:
  preset: rfm                 # rfm (recency, frequency, monetary, order value, tenure) | none
  extra: []                   # e.g. [{ property: num_visits, transform: log1p }]
  # asOf: 2026-06-30          # compute recency as of this day (historical data)
  # currency: { base: USD, rates: { EUR: 1.08, GBP: 1.27 } }
  categorical: []             # e.g. [{ property: lifecycle_stage, top: 10 }, { property: country }]: one-hot, top values + "other"
  missingIndicatorShare: 0.05 # a feature missing for more customers than this also gets a 0/1 "missing" column
  winsorize: { lower: 0.01, upper: 0.99 }   # clip numeric features at these training percentiles
  scaling: standard           # standard | robust (median and interquartile range)

segmentation:
  algorithm: auto             # auto | kmeans | gmm | hierarchical | dbscan
  algorithms: [kmeans, gmm, hierarchical, dbscan]   # what auto compares
  k: { min: 3, max: 8 }       # or a fixed number, e.g. k: 5
  select: silhouette          # silhouette | davies-bouldin | calinski-harabasz
  tolerance: 0.1              # prefer the largest k within this share of the best index
  minSegmentShare: 0.02       # never choose a model with a segment smaller than this
  nInit: 4                    # k-means restarts
  silhouetteSample: 10000     # exact silhouette up to this many customers, a seeded sample above
  validationShare: 0.2        # customers held out to score the candidates
  fitSample: 50000            # candidates are fitted on at most this many customers
  minStability: 0.6           # refuse a model whose resampled fits agree less than this (adjusted Rand index)
  stabilityRounds: 3
  maxNoiseShare: 0.2          # DBSCAN: at most this share of customers as outliers
  gmm: { covariance: full }   # full | diag
  hierarchical: { linkage: ward }   # ward | average | complete
  dbscan: { minPts: 10 }      # eps: chosen from the k-distance knee unless given
  seed: 42
  drift: { maxPsi: 0.2, bins: 10 }   # \`segsync run\` retrains when a feature's population stability index passes maxPsi
  retrainAfterDays: 30        # \`segsync run\` retrains a model this old; otherwise it only assigns the synced customers

push:
  maxChurn: 0.3               # hold the push for approval when more customers than this changed segment
  targets:
    - connector: files
      file: ./data/memberships.csv

# What the store keeps of a person (docs/security.md). Features and pushes need only the
# email (identity resolution, the memberships file) and what features.extra and
# features.categorical name.
privacy:
  # fields: [country]         # also keep: firstName, lastName, company, country, lifecycleStage
  # properties: [num_visits]  # contact properties kept; default: the ones features.extra / categorical name
  hashEmails: false           # true: store emails as keyed HMAC-SHA256 digests (identity resolution still works)
  hashKeyEnv: SEGSYNC_EMAIL_KEY   # environment variable holding that key (32+ random characters)

# What \`segsync serve\` runs by itself (cron expressions, read in \`timezone\`).
# schedule:
#   sync: "*/30 * * * *"
#   segment: "0 3 * * *"
#   push: after-segment
#   timezone: UTC

# Near-real-time segmentation in \`segsync serve\`: changes are assigned with the
# active model (no retraining) and only the contacts they touch are pushed.
# realtime:
#   hubspot:                  # HubSpot webhooks at POST /webhooks/hubspot (v3 signature checked)
#     clientSecret: \${HUBSPOT_CLIENT_SECRET}
#     # connector: hubspot    # needed when several HubSpot connectors are configured
#     # portalId: 12345678    # a public app: apply only this portal's events
#     # publicUrl: https://segsync.example.com/webhooks/hubspot   # when a proxy changes the URL
#   poll:                     # short incremental polls (Salesforce: SystemModstamp)
#     - { connector: salesforce, every: 1m }
#   batchWindow: 2s           # events within this window after the first are applied together
#   maxBatch: 1000            # events per run at most
#   dedupeRetention: 7d       # applied event ids are remembered this long (replays refused)

# The admin API and dashboard of \`segsync serve\`.
server:
  host: 127.0.0.1             # any other address needs a token
  port: 8787
  # token: \${SEGSYNC_ADMIN_TOKEN}
`;

export const ENV_TEMPLATE = `# Environment for segsync. Copy to .env (never commit it) or export these.
# SEGSYNC_CONFIG=./segsync.yaml
# HUBSPOT_ACCESS_TOKEN=
# SALESFORCE_ACCESS_TOKEN=
# SEGSYNC_ADMIN_TOKEN=
# HUBSPOT_CLIENT_SECRET=      # for realtime.hubspot: the HubSpot app's client secret (signs the webhooks)
# SEGSYNC_EMAIL_KEY=          # for privacy.hashEmails: openssl rand -hex 32 (keep it: a new key cannot read the store)
`;
