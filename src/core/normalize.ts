/**
 * Normalization shared by every connector's mapper (DESIGN.md): trimmed strings,
 * lowercase valid emails, ISO-8601 UTC dates, ISO alpha-2 countries, ISO-4217
 * currencies. Each returns a value or a reason; none throws.
 */

export type Norm<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Norm<T> => ({ ok: true, value });
const bad = (reason: string): Norm<never> => ({ ok: false, reason });

/** Empty and whitespace-only strings become undefined. */
export function clean(s: string | null | undefined): string | undefined {
  if (s === null || s === undefined) return undefined;
  const t = s.trim();
  return t === '' ? undefined : t;
}

// Pragmatic: one @, a dot in the domain, no spaces; the full RFC grammar rejects nothing CRMs send.
const EMAIL = /^[^\s@"<>(),;:\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$/;

export function normalizeEmail(raw: string | null | undefined): Norm<string | undefined> {
  const s = clean(raw);
  if (s === undefined) return ok(undefined);
  const e = s.toLowerCase();
  if (e.length > 254 || !EMAIL.test(e)) return bad(`bad email: ${JSON.stringify(s.slice(0, 80))}`);
  return ok(e);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Accepts ISO dates and date-times (and epoch milliseconds); returns ISO-8601 UTC with milliseconds. */
export function normalizeDate(raw: string | number | null | undefined, field: string): Norm<string | undefined> {
  if (raw === null || raw === undefined) return ok(undefined);
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return bad(`bad date: ${field} is not a finite number`);
    return ok(new Date(raw).toISOString());
  }
  const s = clean(raw);
  if (s === undefined) return ok(undefined);
  const fast = fastUtc(s);
  if (fast !== undefined) return ok(fast);
  if (/^\d{12,14}$/.test(s)) return ok(new Date(Number(s)).toISOString());
  const m = ISO_DATE.exec(s);
  if (!m) return bad(`bad date: ${field} ${JSON.stringify(s.slice(0, 40))} is not an ISO-8601 date`);
  const [, y, mo, d, h = '00', mi = '00', sec = '00'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > dim || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 60) {
    return bad(`bad date: ${field} ${JSON.stringify(s)} does not exist`);
  }
  // a date-time without a zone is taken as UTC, as CRMs export them
  const withZone = m[4] === undefined ? `${s.slice(0, 10)}T00:00:00Z` : m[8] === undefined ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T');
  const t = Date.parse(withZone);
  if (!Number.isFinite(t)) return bad(`bad date: ${field} ${JSON.stringify(s)}`);
  return ok(new Date(t).toISOString());
}

const DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The digit at `i` (0-9), or NaN: numbers read from char codes, no substrings (this runs for every date of every row). */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
}
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1);

/** The common shape "YYYY-MM-DDTHH:MM:SS[.sss]Z", checked and converted without Date parsing (hot path). */
function fastUtc(s: string): string | undefined {
  const len = s.length;
  if ((len !== 20 && len !== 24) || s.charCodeAt(len - 1) !== 90 /* Z */ || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return undefined;
  if (len === 24 && (s[19] !== '.' || Number.isNaN(digit(s, 20) + digit(s, 21) + digit(s, 22)))) return undefined;
  const y = two(s, 0) * 100 + two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  const sec = two(s, 17);
  // NaN (a non-digit) fails every comparison, so it is caught here too
  if (!(y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= (DAYS[mo] as number) && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59)) return undefined;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return undefined;
  return len === 24 ? s : `${s.slice(0, 19)}.000Z`;
}

// Retired codes (CLDR still names them) and codes that are not countries: never produced.
const NOT_COUNTRIES = new Set([
  'UK', 'FX', 'SU', 'YU', 'DY', 'HV', 'ZR', 'TP', 'BU', 'CS', 'DD', 'NH', 'RH', 'VD', 'YD', 'AN', 'NT', 'QU', 'ZZ', 'EU', 'EZ', 'UN',
  'QO', 'AC', 'CP', 'DG', 'EA', 'IC', 'TA', 'CQ',
]);

let countryIndex: Map<string, string> | undefined;

/** Country names and codes to ISO alpha-2, from the runtime's own region names (Intl). */
function countries(): Map<string, string> {
  if (countryIndex) return countryIndex;
  const m = new Map<string, string>();
  const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  const A = 65;
  for (let i = 0; i < 26; i++) {
    for (let j = 0; j < 26; j++) {
      const code = String.fromCharCode(A + i, A + j);
      // X* and Q* are private-use ranges (pseudo-locales such as XA, XB)
      if (NOT_COUNTRIES.has(code) || (code[0] === 'X' && code !== 'XK') || (code[0] === 'Q' && code >= 'QM')) continue;
      const name = names.of(code);
      if (!name || name === code) continue;
      m.set(code.toLowerCase(), code);
      if (!m.has(name.toLowerCase())) m.set(name.toLowerCase(), code);
    }
  }
  for (const [alias, code] of [
    ['usa', 'US'], ['united states of america', 'US'], ['u.s.', 'US'], ['u.s.a.', 'US'], ['america', 'US'],
    ['uk', 'GB'], ['u.k.', 'GB'], ['great britain', 'GB'], ['england', 'GB'], ['scotland', 'GB'], ['wales', 'GB'],
    ['holland', 'NL'], ['the netherlands', 'NL'], ['deutschland', 'DE'], ['españa', 'ES'], ['россия', 'RU'],
    ['south korea', 'KR'], ['korea', 'KR'], ['czech republic', 'CZ'], ['uae', 'AE'], ['ivory coast', 'CI'],
    ['turkey', 'TR'], ['türkiye', 'TR'], ['russia', 'RU'], ['vietnam', 'VN'], ['czechia', 'CZ'], ['burma', 'MM'],
    ['democratic republic of the congo', 'CD'], ['republic of the congo', 'CG'], ['east timor', 'TL'],
  ] as const) m.set(alias, code);
  countryIndex = m;
  return m;
}

export function normalizeCountry(raw: string | null | undefined): Norm<string | undefined> {
  const s = clean(raw);
  if (s === undefined) return ok(undefined);
  const code = countries().get(s.toLowerCase());
  if (!code) return bad(`bad country: ${JSON.stringify(s.slice(0, 60))} is not a known country name or ISO code`);
  return ok(code);
}

export function normalizeCurrency(raw: string | null | undefined, fallback: string): Norm<string> {
  const s = clean(raw);
  if (s === undefined) return ok(fallback);
  const c = s.toUpperCase();
  if (!/^[A-Z]{3}$/.test(c)) return bad(`bad currency: ${JSON.stringify(s.slice(0, 20))} is not an ISO-4217 code`);
  return ok(c);
}

/** Parses an amount: plain numbers, optional thousands separators "1,234.50"; not "N/A". */
export function normalizeAmount(raw: string | number | null | undefined, field: string): Norm<number | undefined> {
  if (raw === null || raw === undefined) return ok(undefined);
  if (typeof raw === 'number') return Number.isFinite(raw) ? ok(raw) : bad(`bad amount: ${field} is not finite`);
  const s = clean(raw);
  if (s === undefined) return ok(undefined);
  const t = /^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s) ? s.replace(/,/g, '') : s;
  if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return bad(`bad amount: ${field} ${JSON.stringify(s.slice(0, 30))} is not a number`);
  const n = Number(t);
  if (!Number.isFinite(n)) return bad(`bad amount: ${field} ${JSON.stringify(s.slice(0, 30))} is out of range`);
  return ok(n);
}

/** A CSV cell as a property value: numbers as numbers, empty as null. */
export function propertyValue(raw: string | undefined): string | number | null {
  const s = clean(raw);
  if (s === undefined) return null;
  // a leading zero (ZIP codes, phone numbers, ids) is part of the value: keep it as text
  if (/^-?(\d+\.?\d*|\.\d+)$/.test(s) && s.length < 16 && !/^-?0\d/.test(s)) return Number(s);
  return s;
}
