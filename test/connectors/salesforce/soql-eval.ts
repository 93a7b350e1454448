/**
 * A small SOQL evaluator for the fake org: SELECT fields | COUNT() FROM object
 * [WHERE ...] [ORDER BY ...] [LIMIT n], with AND/OR/NOT, comparisons, IN lists,
 * semi-joins (IN (SELECT f FROM o [WHERE ...])), parent paths (Account.Name),
 * datetime/date/string/number/boolean/null literals. Enough to run exactly the
 * queries the connector sends, with Salesforce's semantics for them.
 */

export type Row = Record<string, unknown>;

export class SoqlError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

type Tok = { t: 'id' | 'str' | 'num' | 'dt' | 'date' | 'op' | 'punc'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let v = '';
      i++;
      while (i < s.length && s[i] !== "'") {
        if (s[i] === '\\') {
          const n = s[i + 1];
          v += n === 'n' ? '\n' : n === 'r' ? '\r' : (n ?? '');
          i += 2;
        } else v += s[i++];
      }
      if (s[i] !== "'") throw new SoqlError('MALFORMED_QUERY', 'unterminated string');
      i++;
      out.push({ t: 'str', v });
      continue;
    }
    const rest = s.slice(i);
    const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})/.exec(rest);
    if (dt) {
      out.push({ t: 'dt', v: dt[0] });
      i += dt[0].length;
      continue;
    }
    const date = /^\d{4}-\d{2}-\d{2}(?![\d:T])/.exec(rest);
    if (date) {
      out.push({ t: 'date', v: date[0] });
      i += date[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(rest);
    if (num) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(rest);
    if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
      continue;
    }
    if ('(),'.includes(c)) {
      out.push({ t: 'punc', v: c });
      i++;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    throw new SoqlError('MALFORMED_QUERY', `unexpected character ${c}`);
  }
  return out;
}

type Lit = { k: 'lit'; v: unknown };
type Expr =
  | { k: 'or' | 'and'; a: Expr; b: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'cmp'; path: string; op: string; val: Lit }
  | { k: 'in'; path: string; not: boolean; vals: Lit[] | Query };

export interface Query {
  count: boolean;
  fields: string[];
  from: string;
  where?: Expr;
  orderBy: { path: string; desc: boolean; nullsLast: boolean }[];
  limit?: number;
}

class Parser {
  i = 0;
  constructor(private readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  kw(word: string): boolean {
    const t = this.peek();
    if (t && t.t === 'id' && t.v.toUpperCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }
  expectKw(word: string): void {
    if (!this.kw(word)) throw new SoqlError('MALFORMED_QUERY', `expected ${word} near ${this.peek()?.v ?? 'end'}`);
  }
  punc(p: string): boolean {
    const t = this.peek();
    if (t && t.t === 'punc' && t.v === p) {
      this.i++;
      return true;
    }
    return false;
  }
  expectPunc(p: string): void {
    if (!this.punc(p)) throw new SoqlError('MALFORMED_QUERY', `expected ${p} near ${this.peek()?.v ?? 'end'}`);
  }
  ident(): string {
    const t = this.toks[this.i++];
    if (!t || t.t !== 'id') throw new SoqlError('MALFORMED_QUERY', `expected a field near ${t?.v ?? 'end'}`);
    return t.v;
  }
  query(): Query {
    this.expectKw('SELECT');
    let count = false;
    const fields: string[] = [];
    if (this.peek()?.v.toUpperCase() === 'COUNT' && this.toks[this.i + 1]?.v === '(') {
      this.i++;
      this.expectPunc('(');
      this.expectPunc(')');
      count = true;
    } else {
      do fields.push(this.ident());
      while (this.punc(','));
    }
    this.expectKw('FROM');
    const from = this.ident();
    const q: Query = { count, fields, from, orderBy: [] };
    if (this.kw('WHERE')) q.where = this.or();
    if (this.kw('ORDER')) {
      this.expectKw('BY');
      do {
        const path = this.ident();
        const desc = this.kw('DESC') ? true : (this.kw('ASC'), false);
        let nullsLast = desc;
        if (this.kw('NULLS')) nullsLast = this.kw('LAST') ? true : (this.expectKw('FIRST'), false);
        q.orderBy.push({ path, desc, nullsLast });
      } while (this.punc(','));
    }
    if (this.kw('LIMIT')) q.limit = Number(this.toks[this.i++]?.v);
    return q;
  }
  or(): Expr {
    let a = this.and();
    while (this.kw('OR')) a = { k: 'or', a, b: this.and() };
    return a;
  }
  and(): Expr {
    let a = this.not();
    while (this.kw('AND')) a = { k: 'and', a, b: this.not() };
    return a;
  }
  not(): Expr {
    if (this.kw('NOT')) return { k: 'not', e: this.not() };
    if (this.punc('(')) {
      const e = this.or();
      this.expectPunc(')');
      return e;
    }
    const path = this.ident();
    const neg = this.kw('NOT');
    if (this.kw('IN')) {
      this.expectPunc('(');
      if (this.peek()?.t === 'id' && this.peek()?.v.toUpperCase() === 'SELECT') {
        const sub = this.query();
        this.expectPunc(')');
        return { k: 'in', path, not: neg, vals: sub };
      }
      const vals: Lit[] = [];
      do vals.push(this.literal());
      while (this.punc(','));
      this.expectPunc(')');
      return { k: 'in', path, not: neg, vals };
    }
    const op = this.toks[this.i++];
    if (!op || op.t !== 'op') throw new SoqlError('MALFORMED_QUERY', `expected an operator after ${path}`);
    return { k: 'cmp', path, op: op.v === '<>' ? '!=' : op.v, val: this.literal() };
  }
  literal(): Lit {
    const t = this.toks[this.i++];
    if (!t) throw new SoqlError('MALFORMED_QUERY', 'expected a value');
    switch (t.t) {
      case 'str':
        return { k: 'lit', v: t.v };
      case 'num':
        return { k: 'lit', v: Number(t.v) };
      case 'dt':
        return { k: 'lit', v: new Date(Date.parse(t.v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))) };
      case 'date':
        return { k: 'lit', v: t.v };
      case 'id': {
        const u = t.v.toUpperCase();
        if (u === 'TRUE') return { k: 'lit', v: true };
        if (u === 'FALSE') return { k: 'lit', v: false };
        if (u === 'NULL') return { k: 'lit', v: null };
        throw new SoqlError('MALFORMED_QUERY', `unexpected ${t.v}`);
      }
      default:
        throw new SoqlError('MALFORMED_QUERY', `unexpected ${t.v}`);
    }
  }
}

export function parseSoql(s: string): Query {
  const p = new Parser(tokenize(s));
  const q = p.query();
  if (p.peek()) throw new SoqlError('MALFORMED_QUERY', `unexpected ${p.peek()?.v}`);
  return q;
}

export interface Db {
  /** rows of an object, deleted ones included */
  rows(object: string): Row[];
  /** a record by id, any object */
  byId(id: string): { object: string; row: Row } | undefined;
  /** throws SoqlError INVALID_FIELD when the field cannot be used */
  checkField(object: string, path: string): void;
}

/** The parent object named by a relationship: Account -> AccountId. */
export function getPath(db: Db, row: Row, path: string): unknown {
  const segs = path.split('.');
  let cur: Row | undefined = row;
  for (let i = 0; i < segs.length - 1; i++) {
    const ref: unknown = cur?.[`${segs[i]}Id`];
    cur = typeof ref === 'string' ? db.byId(ref)?.row : undefined;
    if (!cur) return null;
  }
  const v = cur?.[segs[segs.length - 1] as string];
  return v === undefined ? null : v;
}

const isIsoDateTime = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v);

function cmpValues(a: unknown, b: unknown): number {
  if (b instanceof Date) {
    const ta = isIsoDateTime(a) ? Date.parse(a) : NaN;
    return ta - b.getTime();
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function eq(a: unknown, b: unknown): boolean {
  if (b === null) return a === null || a === undefined;
  if (a === null || a === undefined) return false;
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return cmpValues(a, b) === 0;
}

/** IN lists as sets, once per parsed query (strings compare case-insensitively, as in SOQL). */
const inSets = new WeakMap<Expr, Set<unknown>>();
const key = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

function evalExpr(db: Db, object: string, e: Expr, row: Row, scanAll: boolean): boolean {
  switch (e.k) {
    case 'or':
      return evalExpr(db, object, e.a, row, scanAll) || evalExpr(db, object, e.b, row, scanAll);
    case 'and':
      return evalExpr(db, object, e.a, row, scanAll) && evalExpr(db, object, e.b, row, scanAll);
    case 'not':
      return !evalExpr(db, object, e.e, row, scanAll);
    case 'cmp': {
      const v = getPath(db, row, e.path);
      const lit = e.val.v;
      if (e.op === '=') return eq(v, lit);
      if (e.op === '!=') return !eq(v, lit);
      if (v === null || lit === null) return false;
      const c = cmpValues(v, lit);
      return e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
    }
    case 'in': {
      const v = getPath(db, row, e.path);
      let set = inSets.get(e);
      if (!set) {
        const vals = Array.isArray(e.vals) ? e.vals.map((l) => l.v) : run(db, e.vals, false).map((r) => getPath(db, r, (e.vals as Query).fields[0] as string));
        set = new Set(vals.map(key));
        inSets.set(e, set);
      }
      const hit = v !== null && set.has(key(v));
      return e.not ? !hit : hit;
    }
  }
}

/** Matching rows in query order (deleted rows only with scanAll). */
export function run(db: Db, q: Query, scanAll: boolean): Row[] {
  for (const f of q.fields) db.checkField(q.from, f);
  let rows = db.rows(q.from).filter((r) => (scanAll || r.IsDeleted !== true) && (!q.where || evalExpr(db, q.from, q.where, r, scanAll)));
  if (q.orderBy.length) {
    rows = [...rows].sort((x, y) => {
      for (const o of q.orderBy) {
        const a = getPath(db, x, o.path);
        const b = getPath(db, y, o.path);
        if (a === b) continue;
        if (a === null) return o.nullsLast ? 1 : -1;
        if (b === null) return o.nullsLast ? -1 : 1;
        const c = cmpValues(a, b);
        if (c !== 0) return o.desc ? -c : c;
      }
      return 0;
    });
  }
  return q.limit !== undefined ? rows.slice(0, q.limit) : rows;
}
