/**
 * Loads the YAML config: ${ENV} interpolation, zod validation of the file and of
 * each connector's entry, cross-checks, and ONE error listing every problem with
 * its line and path.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, isSeq, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, ExitCode, UserError } from '../core/errors.js';
import type { Registry } from '../connector/registry.js';
import { configSchema, type Config, type ConnectorConfig } from './schema.js';
import { didYouMean } from './did-you-mean.js';
import { keysAt } from './zod-keys.js';

export interface LoadOptions {
  registry: Registry;
  env?: Record<string, string | undefined>;
}

const SECRET_KEY = /(token|secret|password|privatekey|apikey|refresh)/i;
const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

type Path = readonly PropertyKey[];

function pathText(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

export function resolveConfigPath(cli: string | undefined, env: Record<string, string | undefined> = process.env): string {
  return resolve(cli ?? env.SEGSYNC_CONFIG ?? './segsync.yaml');
}

export function loadConfig(file: string, opts: LoadOptions): Config {
  const abs = resolve(file);
  if (!existsSync(abs)) {
    throw new UserError('CONFIG_NOT_FOUND', `config file not found`, {
      exitCode: ExitCode.usage,
      where: { file: abs },
      hint: 'pass --config FILE, set SEGSYNC_CONFIG, or run `segsync init` to write one',
    });
  }
  return parseConfig(readFileSync(abs, 'utf8'), abs, opts);
}

export function parseConfig(text: string, file: string, opts: LoadOptions): Config {
  const env = opts.env ?? process.env;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  for (const e of doc.errors) problems.push(`line ${lc.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  if (problems.length) throw new ConfigError(file, problems);

  const lineOf = (path: Path): number | undefined => {
    // a key's own line, when the path ends at a key of a mapping
    if (path.length > 0) {
      const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as unknown[], true);
      const last = path[path.length - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
        const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
        if (range) return lc.linePos(range[0]).line;
      }
    }
    for (let p = [...path]; ; p = p.slice(0, -1)) {
      const node = p.length === 0 ? doc.contents : doc.getIn(p as unknown[], true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lc.linePos(range[0]).line;
      if (p.length === 0) return undefined;
    }
  };
  const problem = (path: Path, msg: string): void => {
    const line = lineOf(path);
    problems.push(`${line !== undefined ? `line ${line}: ` : ''}${pathText(path)}: ${msg}`);
  };

  const missing: Path[] = [];
  const secrets = interpolate(doc, env, lc, problems, missing);
  // a missing variable is one problem: drop what the schema then says about the same key
  const unaffected = (p: string): boolean => !missing.some((m) => p.includes(`: ${pathText(m)}: `));
  const data = toData(doc, file);

  const top = configSchema.safeParse(data);
  if (!top.success) addIssues(top.error, configSchema, [], problem);

  const connectors: ConnectorConfig[] = [];
  const rawConnectors = (data as { connectors?: unknown }).connectors;
  const seen = new Set<string>();
  if (Array.isArray(rawConnectors)) {
    rawConnectors.forEach((entry: unknown, i) => {
      const e = entry as { name?: unknown; type?: unknown };
      if (!e || typeof e !== 'object' || typeof e.type !== 'string' || typeof e.name !== 'string') return;
      if (seen.has(e.name)) problem(['connectors', i, 'name'], `connector name "${e.name}" is used twice`);
      seen.add(e.name);
      const c = opts.registry.spec(e.type);
      if (!c) {
        const dym = didYouMean(e.type, opts.registry.types());
        problem(['connectors', i, 'type'], `unknown connector type "${e.type}"${dym ? ` (did you mean "${dym}"?)` : ''}; known: ${opts.registry.types().join(', ')}`);
        return;
      }
      const r = c.configSchema.safeParse(entry);
      if (!r.success) addIssues(r.error, c.configSchema, ['connectors', i], problem);
      else connectors.push({ name: e.name, type: e.type, settings: r.data });
    });
  }

  const targets = (data as { push?: { targets?: unknown } }).push?.targets;
  if (Array.isArray(targets)) {
    targets.forEach((t: unknown, i) => {
      const name = (t as { connector?: unknown } | null)?.connector;
      if (typeof name !== 'string') return;
      const entry = Array.isArray(rawConnectors)
        ? (rawConnectors as { name?: unknown; type?: unknown }[]).find((c) => c && c.name === name)
        : undefined;
      if (!entry) {
        const dym = didYouMean(name, [...seen]);
        problem(['push', 'targets', i, 'connector'], `no connector named "${name}"${dym ? ` (did you mean "${dym}"?)` : ''}`);
        return;
      }
      const c = typeof entry.type === 'string' ? opts.registry.spec(entry.type) : undefined;
      if (!c) return;
      if (!c.targetSchema) {
        problem(['push', 'targets', i, 'connector'], `connector "${name}" (type ${c.type}) cannot write segments`);
        return;
      }
      const r = c.targetSchema.safeParse(t);
      if (!r.success) addIssues(r.error, c.targetSchema, ['push', 'targets', i], problem);
    });
  }

  let emailHashKey: string | undefined;
  if (top.success && top.data.privacy.hashEmails) {
    const name = top.data.privacy.hashKeyEnv;
    const key = env[name];
    if (key === undefined || key === '') problem(['privacy', 'hashEmails'], `needs a key: environment variable ${name} is not set (32 or more random characters, e.g. \`openssl rand -hex 32\`)`);
    else if (key.length < 32) problem(['privacy', 'hashEmails'], `the key in environment variable ${name} is too short: use 32 or more random characters (e.g. \`openssl rand -hex 32\`)`);
    else {
      emailHashKey = key;
      secrets.push(key);
    }
  }

  checkRealtime(data, rawConnectors, seen, problem);

  if (problems.length || !top.success) throw new ConfigError(file, sortByLine(problems.filter((p) => unaffected(p) || p.includes('environment variable'))));
  const cfg = top.data;
  const baseDir = dirname(file);
  return {
    ...cfg,
    file,
    baseDir,
    store: resolve(baseDir, cfg.store),
    log: { ...cfg.log, file: resolve(baseDir, cfg.log.file) },
    connectors,
    secrets,
    emailHashKey,
    ...(cfg.demo ? { demo: { ...cfg.demo, dir: resolve(baseDir, cfg.demo.dir) } } : {}),
  };
}

/**
 * The document as plain data. yaml throws here, not in parseDocument, for an
 * alias bomb (it refuses to expand one: a resource exhaustion attack) and for
 * a bad `<<` merge in YAML 1.1 documents: both are the user's file.
 */
function toData(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 1_000 }) ?? {};
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ConfigError(file, [`cannot read the YAML: ${why.split('\n')[0]}`]);
  }
}

function sortByLine(problems: string[]): string[] {
  const line = (p: string): number => Number(/^line (\d+):/.exec(p)?.[1] ?? Infinity);
  return problems.map((p, i) => [p, i] as const).sort((a, b) => line(a[0]) - line(b[0]) || a[1] - b[1]).map(([p]) => p);
}

function addIssues(
  err: z.ZodError,
  schema: z.ZodType,
  prefix: Path,
  problem: (path: Path, msg: string) => void,
): void {
  for (const issue of err.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const dym = didYouMean(key, known);
        problem([...path, key], `unknown key${dym ? ` (did you mean "${dym}"?)` : ''}`);
      }
    } else if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
      problem(path, `is required (${issue.expected})`);
    } else {
      problem(path, issue.message);
    }
  }
}

/** The config path of a node from visit()'s ancestors: map keys and sequence indices. */
function ancestorPath(ancestors: readonly unknown[], node: unknown): Path {
  const out: PropertyKey[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const a = chain[i];
    const next = chain[i + 1];
    if (isPair(a) && isScalar(a.key)) out.push(String(a.key.value));
    else if (isSeq(a)) out.push(a.items.indexOf(next as never));
  }
  return out;
}

/** `realtime` names connectors: the webhooks' must be a HubSpot one, each poll's must exist. */
function checkRealtime(
  data: unknown,
  rawConnectors: unknown,
  names: ReadonlySet<string>,
  problem: (path: Path, message: string) => void,
): void {
  const rt = (data as { realtime?: { hubspot?: { connector?: unknown }; poll?: unknown } } | null)?.realtime;
  if (!rt || typeof rt !== 'object') return;
  const entries = Array.isArray(rawConnectors) ? (rawConnectors as ({ name?: unknown; type?: unknown } | null)[]).filter((c) => c !== null && typeof c === 'object') : [];
  const unknown = (path: Path, name: string): void => {
    const dym = didYouMean(name, [...names]);
    problem(path, `no connector named "${name}"${dym ? ` (did you mean "${dym}"?)` : ''}`);
  };
  const hs = rt.hubspot;
  if (hs && typeof hs === 'object') {
    const hubspots = entries.filter((c) => c?.type === 'hubspot').map((c) => String(c?.name));
    if (typeof hs.connector === 'string') {
      const e = entries.find((c) => c?.name === hs.connector);
      if (!e) unknown(['realtime', 'hubspot', 'connector'], hs.connector);
      else if (e.type !== 'hubspot') problem(['realtime', 'hubspot', 'connector'], `connector "${hs.connector}" is of type ${String(e.type)}, not hubspot`);
    } else if (hubspots.length !== 1) {
      problem(
        ['realtime', 'hubspot'],
        hubspots.length === 0 ? 'HubSpot webhooks need a connector of type hubspot' : `several HubSpot connectors (${hubspots.join(', ')}): name the one the webhooks are about with connector:`,
      );
    }
  }
  if (Array.isArray(rt.poll)) {
    const polled = new Set<string>();
    rt.poll.forEach((p: unknown, i) => {
      const name = (p as { connector?: unknown } | null)?.connector;
      if (typeof name !== 'string') return;
      const e = entries.find((c) => c?.name === name);
      if (!e) return unknown(['realtime', 'poll', i, 'connector'], name);
      if (polled.has(name)) problem(['realtime', 'poll', i, 'connector'], `connector "${name}" is polled twice`);
      polled.add(name);
    });
  }
}

/** Replaces ${VAR} and ${VAR:-default} in string scalars; returns the secret values it saw. */
function interpolate(
  doc: Document,
  env: Record<string, string | undefined>,
  lc: LineCounter,
  problems: string[],
  missing: Path[],
): string[] {
  const secrets: string[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = pair.value;
      if (isScalar(value) && typeof value.value === 'string' && SECRET_KEY.test(key) && !value.value.includes('${')) {
        // a literal secret in the file: still keep it out of logs
        secrets.push(value.value);
      }
    },
    Scalar(_, node, ancestors) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const line = node.range ? lc.linePos(node.range[0]).line : undefined;
      const path = ancestorPath(ancestors, node);
      node.value = node.value.replace(ENV_REF, (_m, name: string, dflt: string | undefined) => {
        const v = env[name];
        if (v === undefined || v === '') {
          if (dflt !== undefined) return dflt;
          problems.push(`${line !== undefined ? `line ${line}: ` : ''}${pathText(path)}: environment variable ${name} is not set (set it, or add it to .env)`);
          missing.push(path);
          return '';
        }
        if (v.length >= 6) secrets.push(v);
        return v;
      });
    },
  });
  return secrets;
}
