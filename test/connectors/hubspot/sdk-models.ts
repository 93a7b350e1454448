/**
 * Checks recorded request bodies against the SDK's own request models: each
 * model's attribute map (names, JSON names, types) from its class, and which
 * attributes are required from its .d.ts. Unknown keys, missing required keys,
 * wrong types and values outside an enum all fail.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import type { RecordedRequest } from './fake-hubspot.js';

const req = createRequire(import.meta.url);

interface Attr {
  name: string;
  baseName: string;
  type: string;
}
interface ModelClass {
  getAttributeTypeMap(): Attr[];
}

/** Request body models by endpoint: [method, path, SDK api folder, model]. */
export const REQUEST_MODELS: [string, RegExp, string, string][] = [
  ['POST', /^\/crm\/v3\/lists\/?$/, 'lists', 'ListCreateRequest'],
  ['PUT', /^\/crm\/v3\/lists\/\d+\/memberships\/add-and-remove$/, 'lists', 'MembershipChangeRequest'],
  ['POST', /^\/crm\/v3\/properties\/contacts$/, 'properties', 'PropertyCreate'],
  ['PATCH', /^\/crm\/v3\/properties\/contacts\/[^/]+$/, 'properties', 'PropertyUpdate'],
  ['POST', /^\/crm\/v3\/properties\/contacts\/groups$/, 'properties', 'PropertyGroupCreate'],
  ['POST', /^\/crm\/v3\/objects\/contacts\/batch\/update$/, 'contacts', 'BatchInputSimplePublicObjectBatchInput'],
  ['POST', /^\/crm\/v3\/objects\/contacts\/search$/, 'contacts', 'PublicObjectSearchRequest'],
  ['POST', /^\/crm\/v3\/objects\/deals\/search$/, 'deals', 'PublicObjectSearchRequest'],
  ['POST', /^\/crm\/v4\/associations\/deals\/contacts\/batch\/read$/, 'associations/v4', 'BatchInputPublicFetchAssociationsBatchRequest'],
];

/**
 * Where we knowingly follow HubSpot's documented wire shape instead of the SDK
 * model: the model types search `sorts` as string[], the API documents
 * [{ propertyName, direction }].
 */
const DEVIATIONS: Record<string, (v: unknown) => boolean> = {
  'PublicObjectSearchRequest.sorts': (v) =>
    Array.isArray(v) &&
    v.every((s) => typeof s === 'object' && s !== null && typeof (s as { propertyName?: unknown }).propertyName === 'string' && ['ASCENDING', 'DESCENDING'].includes((s as { direction?: string }).direction ?? '')),
};

const PRIMITIVES = new Set(['string', 'number', 'boolean', 'any', 'object', 'Date']);

function modelFile(api: string, type: string): string {
  return req.resolve(`@hubspot/api-client/lib/codegen/crm/${api}/models/${type}.js`);
}

function loadModel(api: string, type: string): { cls: ModelClass; required: Set<string>; enumValues?: Set<string> } | undefined {
  let file: string;
  try {
    file = modelFile(api, type);
  } catch {
    return undefined;
  }
  const mod = req(file) as Record<string, unknown>;
  const cls = mod[type] as ModelClass | undefined;
  const dts = readFileSync(file.replace(/\.js$/, '.d.ts'), 'utf8');
  const required = new Set<string>();
  const body = /export declare class \w+ \{([\s\S]*?)static readonly discriminator/.exec(dts)?.[1] ?? '';
  for (const m of body.matchAll(/^\s*'([^']+)'(\?)?:/gm)) if (!m[2]) required.add(m[1] as string);
  if (!cls || typeof cls.getAttributeTypeMap !== 'function') return undefined;
  return { cls, required };
}

function loadEnum(api: string, model: string, enumName: string): Set<string> | undefined {
  try {
    const mod = req(modelFile(api, model)) as Record<string, Record<string, string>>;
    const e = mod[enumName];
    return e ? new Set(Object.values(e)) : undefined;
  } catch {
    return undefined;
  }
}

/** Problems of `value` against SDK type `type` (empty when it conforms). */
export function conform(value: unknown, type: string, api: string, path: string, owner = ''): string[] {
  if (type.endsWith(' | null')) return value === null ? [] : conform(value, type.slice(0, -7), api, path, owner);
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((v, i) => conform(v, arr[1] as string, api, `${path}[${i}]`, owner));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object map`];
    return Object.entries(value).flatMap(([k, v]) => conform(v, map[1] as string, api, `${path}.${k}`, owner));
  }
  if (PRIMITIVES.has(type)) {
    if (type === 'any' || type === 'object') return [];
    if (type === 'Date') return typeof value === 'string' && Number.isFinite(Date.parse(value)) ? [] : [`${path}: expected a date-time`];
    return typeof value === type ? [] : [`${path}: expected ${type}, got ${JSON.stringify(value)}`];
  }
  if (type.endsWith('Enum')) {
    const values = loadEnum(api, owner, type);
    if (!values) return [`${path}: unknown enum ${type}`];
    return values.has(value as string) ? [] : [`${path}: ${JSON.stringify(value)} is not one of ${[...values].join(', ')}`];
  }
  const model = loadModel(api, type);
  if (!model) return [`${path}: unknown SDK model ${type}`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a ${type} object`];
  const attrs = model.cls.getAttributeTypeMap();
  const byJson = new Map(attrs.map((a) => [a.baseName, a] as const));
  const out: string[] = [];
  for (const key of Object.keys(value)) if (!byJson.has(key)) out.push(`${path}.${key}: not an attribute of ${type}`);
  for (const a of attrs) {
    const v = (value as Record<string, unknown>)[a.baseName];
    if (v === undefined) {
      if (model.required.has(a.name)) out.push(`${path}.${a.baseName}: required by ${type}`);
      continue;
    }
    const deviation = DEVIATIONS[`${type}.${a.baseName}`];
    if (deviation) {
      if (!deviation(v)) out.push(`${path}.${a.baseName}: not the documented shape`);
      continue;
    }
    out.push(...conform(v, a.type, api, `${path}.${a.baseName}`, type));
  }
  return out;
}

/** Every recorded request with a body matches its SDK model; returns how many bodies were checked, by model. */
export function expectBodiesMatchSdkModels(requests: readonly RecordedRequest[]): Record<string, number> {
  const checked: Record<string, number> = {};
  for (const r of requests) {
    if (r.body === undefined || r.path.endsWith('access-token-info')) continue;
    const m = REQUEST_MODELS.find(([method, path]) => method === r.method && path.test(r.path));
    expect(m, `no SDK model known for ${r.method} ${r.path}`).toBeDefined();
    if (!m) continue;
    const [, , api, type] = m;
    expect(conform(r.body, type, api, `${r.method} ${r.path}`), `${r.method} ${r.path} as ${type}`).toEqual([]);
    checked[type] = (checked[type] ?? 0) + 1;
  }
  return checked;
}
