/** SOQL text: literals, the tie-safe cursor clause, values by field path. */

/** A string literal, escaped. */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** Any Salesforce date-time text ("...000+0000", "...000Z") as ISO-8601 UTC with milliseconds. */
export function isoStamp(s: string): string {
  const t = Date.parse(s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (!Number.isFinite(t)) throw new Error(`not a date-time: ${s}`);
  return new Date(t).toISOString();
}

/**
 * A date-time literal, truncated to the second: SOQL takes no fraction, and
 * truncating can only make the cursor re-read a record, never skip one.
 */
export function dateTimeLiteral(iso: string): string {
  return `${isoStamp(iso).slice(0, 19)}Z`;
}

export interface Cursor {
  /** ISO-8601 UTC */
  stamp: string;
  id: string;
}

/** Rows strictly after the cursor in `ORDER BY stamp, id` order: ties at one stamp resume by id. */
export function afterCursor(stampField: string, idField: string, c: Cursor | undefined): string | undefined {
  if (!c) return undefined;
  const t = dateTimeLiteral(c.stamp);
  return `(${stampField} > ${t} OR (${stampField} = ${t} AND ${idField} > ${quote(c.id)}))`;
}

/** Later of two cursors in (stamp, id) order. */
export function laterCursor(a: Cursor | undefined, b: Cursor | undefined): Cursor | undefined {
  if (!a) return b;
  if (!b) return a;
  const ta = Date.parse(a.stamp);
  const tb = Date.parse(b.stamp);
  if (ta !== tb) return ta > tb ? a : b;
  return a.id >= b.id ? a : b;
}

export function and(...parts: (string | undefined)[]): string | undefined {
  const p = parts.filter((x): x is string => x !== undefined && x !== '');
  if (p.length === 0) return undefined;
  return p.length === 1 ? p[0] : p.map((x) => `(${x})`).join(' AND ');
}

export function select(fields: readonly string[], from: string, where?: string, orderBy?: readonly string[]): string {
  const f = [...new Set(fields)].join(', ');
  return `SELECT ${f} FROM ${from}${where ? ` WHERE ${where}` : ''}${orderBy?.length ? ` ORDER BY ${orderBy.join(', ')}` : ''}`;
}

/** The value at a dotted path (Account.Name) in a REST record or a nested bulk row; null when any step is null. */
export function valueAt(rec: Record<string, unknown>, path: string): unknown {
  let cur: unknown = rec;
  for (const seg of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return null;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur === undefined ? null : cur;
}

/** Bulk CSV columns "Account.Name" as nested objects, like REST; "" is null. A parent whose fields are all null is null. */
export function nestRow(row: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(row)) {
    const v = raw === '' ? null : raw;
    const segs = k.split('.');
    let cur = out;
    for (let i = 0; i < segs.length - 1; i++) {
      const s = segs[i] as string;
      const next = cur[s];
      if (next === null || typeof next !== 'object') cur[s] = {};
      cur = cur[s] as Record<string, unknown>;
    }
    cur[segs[segs.length - 1] as string] = v;
  }
  const collapse = (o: Record<string, unknown>): unknown => {
    let any = false;
    for (const [k, v] of Object.entries(o)) {
      if (v !== null && typeof v === 'object') o[k] = collapse(v as Record<string, unknown>);
      if (o[k] !== null) any = true;
    }
    return any ? o : null;
  };
  for (const [k, v] of Object.entries(out)) if (v !== null && typeof v === 'object') out[k] = collapse(v as Record<string, unknown>);
  return out;
}
