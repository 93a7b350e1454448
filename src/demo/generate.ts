/**
 * Deterministic demo data: contacts.csv + transactions.csv shaped like a CRM export.
 *
 * Customers are drawn from latent behaviours (new, loyal, big spender, lapsing,
 * lost, one-off, never purchased); each contact's transactions are generated
 * right after it and both files are streamed in ~1 MB chunks, so memory stays
 * flat at any size (1M customers / ~10M transactions).
 *
 * A small share of extra "dirty" rows is mixed in so quarantine has something
 * to catch. Every dirty row is an *extra* row: the N customers c…1..c…N and
 * their transactions are always clean, and a dirty row never makes a clean row
 * invalid (e.g. a malformed-email contact gets no transactions), so quarantine
 * counts are exactly `dirtyByKind` (see DirtyKind for which kinds quarantine).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ChunkWriter, csvField, formatCents, isoSeconds } from './csv-out.js';
import { Rng, Weighted } from './rng.js';
import {
  COMPANIES,
  COUNTRY_WEIGHTS,
  EMAIL_DOMAINS,
  EUR_COUNTRIES,
  FIRST_NAMES,
  GBP_COUNTRIES,
  LAST_NAMES,
  LIFECYCLE_STAGES,
  emailSafe,
  type LifecycleStage,
} from './vocab.js';

export interface GenerateDemoOptions {
  /** number of (clean) customers/contacts, c…1..c…N */
  customers: number;
  outDir: string;
  /** PRNG seed, default 42 */
  seed?: number;
  /** mean clean transactions per customer, default 10 (must be >= 1) */
  avgTransactions?: number;
  /** share of extra dirty rows per file, default 0.01 (0 = perfectly clean) */
  dirtyRate?: number;
  /** ISO date (YYYY-MM-DD → end of that day UTC) or full ISO timestamp the data ends at, default '2026-06-30' */
  asOf?: string;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Kinds of extra dirty rows.
 * - malformed_email   contacts.csv: fresh id, email like `john.doe@` / `no-at-sign.example.com`; no transactions. Quarantine.
 * - empty_id          contacts.csv: id column empty, otherwise valid (unique valid email); no transactions. Quarantine.
 * - duplicate_update  contacts.csv: an existing id again, later updated_at, changed num_visits plus lifecycle_stage
 *                     or company. A legitimate update: upsert, NOT quarantine.
 * - duplicate_email   contacts.csv: fresh id, same email as an earlier contact, otherwise valid; no transactions.
 *                     Quarantined only if the sync enforces unique emails.
 * - bad_amount        transactions.csv: amount is '' or non-numeric ('N/A', 'n/a', 'TBD', '-'); valid contact. Quarantine.
 * - bad_date          transactions.csv: occurred_at unparseable ('2025-13-45', 'not-a-date', ...). Quarantine.
 * - orphan_transaction transactions.csv: contact_id of a contact that does not exist (c9…, one digit wider). Quarantine.
 */
export type DirtyKind =
  | 'malformed_email'
  | 'empty_id'
  | 'duplicate_update'
  | 'duplicate_email'
  | 'bad_amount'
  | 'bad_date'
  | 'orphan_transaction';

export const DIRTY_KINDS: readonly DirtyKind[] = [
  'malformed_email',
  'empty_id',
  'duplicate_update',
  'duplicate_email',
  'bad_amount',
  'bad_date',
  'orphan_transaction',
];

export interface GenerateDemoResult {
  contactsFile: string;
  transactionsFile: string;
  /** data rows in contacts.csv (clean customers + dirty contact rows) */
  contacts: number;
  /** data rows in transactions.csv (clean + dirty) */
  transactions: number;
  /** dirty rows in both files (sum of dirtyByKind) */
  dirtyRows: number;
  dirtyByKind: Record<DirtyKind, number>;
}

export const CONTACT_COLUMNS = [
  'id',
  'email',
  'first_name',
  'last_name',
  'company',
  'country',
  'lifecycle_stage',
  'created_at',
  'updated_at',
  'num_visits',
  'age',
] as const;

export const TRANSACTION_COLUMNS = ['id', 'contact_id', 'amount', 'currency', 'occurred_at', 'status'] as const;

export const CONTACTS_FILE = 'contacts.csv';
export const TRANSACTIONS_FILE = 'transactions.csv';

export type Behaviour = 'none' | 'one_off' | 'new' | 'loyal' | 'big_spender' | 'lapsing' | 'lost';

interface Profile {
  share: number;
  /** relative weight of the Poisson part of the order count (0 = fixed count) */
  orderWeight: number;
  amountMedian: number;
  amountSigma: number;
  visitBase: number;
  ageMean: number;
}

const PROFILES: Readonly<Record<Behaviour, Profile>> = {
  none: { share: 0.08, orderWeight: 0, amountMedian: 0, amountSigma: 0, visitBase: 3, ageMean: 36 },
  one_off: { share: 0.15, orderWeight: 0, amountMedian: 45, amountSigma: 0.8, visitBase: 4, ageMean: 38 },
  new: { share: 0.12, orderWeight: 0, amountMedian: 50, amountSigma: 0.6, visitBase: 8, ageMean: 33 },
  loyal: { share: 0.25, orderWeight: 2.0, amountMedian: 65, amountSigma: 0.45, visitBase: 30, ageMean: 42 },
  big_spender: { share: 0.08, orderWeight: 0.7, amountMedian: 420, amountSigma: 0.6, visitBase: 18, ageMean: 47 },
  lapsing: { share: 0.17, orderWeight: 1.2, amountMedian: 55, amountSigma: 0.55, visitBase: 12, ageMean: 40 },
  lost: { share: 0.15, orderWeight: 0.5, amountMedian: 40, amountSigma: 0.6, visitBase: 5, ageMean: 39 },
};

const BEHAVIOURS = Object.keys(PROFILES) as Behaviour[];

/** Mean order count of the fixed-count behaviours plus the "1 +" of the Poisson ones. */
function baseOrderMean(): number {
  return PROFILES.one_off.share * 1 + PROFILES.new.share * 1.5 +
    BEHAVIOURS.filter((b) => PROFILES[b].orderWeight > 0).reduce((acc, b) => acc + PROFILES[b].share, 0);
}

function weightedOrderMean(): number {
  return BEHAVIOURS.reduce((acc, b) => acc + PROFILES[b].share * PROFILES[b].orderWeight, 0);
}

const DAY = 86400;
const WINDOW_DAYS = 3 * 365;

const STATUS = new Weighted<string>([
  ['won', 0.92],
  ['refunded', 0.04],
  ['lost', 0.025],
  ['open', 0.015],
]);

const CONTACT_DIRTY = new Weighted<DirtyKind>([
  ['malformed_email', 0.35],
  ['duplicate_update', 0.3],
  ['empty_id', 0.2],
  ['duplicate_email', 0.15],
]);

const TX_DIRTY = new Weighted<DirtyKind>([
  ['bad_amount', 0.4],
  ['bad_date', 0.35],
  ['orphan_transaction', 0.25],
]);

const BAD_AMOUNTS = new Weighted<string>([
  ['N/A', 0.5],
  ['', 0.3],
  ['n/a', 0.1],
  ['TBD', 0.05],
  ['-', 0.05],
]);

const BAD_DATES: readonly string[] = [
  '2025-13-45',
  '2025-00-10T08:00:00Z',
  '2025-06-15T25:61:00Z',
  'not-a-date',
  '31/12/2024',
];

const BEHAVIOUR_PICK = new Weighted<Behaviour>(BEHAVIOURS.map((b) => [b, PROFILES[b].share] as const));
const COUNTRY_PICK = new Weighted<string>(COUNTRY_WEIGHTS);
const DOMAIN_PICK = new Weighted<string>(EMAIL_DOMAINS);
const PROSPECT_STAGE = new Weighted<LifecycleStage>([
  ['subscriber', 0.35],
  ['lead', 0.35],
  ['marketingqualifiedlead', 0.15],
  ['salesqualifiedlead', 0.08],
  ['opportunity', 0.07],
]);
const COMPANY_SUFFIXES: readonly string[] = ['LLC', 'Inc', 'Ltd', 'GmbH', '& Co', 'Group', 'Consulting', 'Studio'];

const FIRST_CSV = FIRST_NAMES.map(csvField);
const LAST_CSV = LAST_NAMES.map(csvField);
const FIRST_EMAIL = FIRST_NAMES.map(emailSafe);
const LAST_EMAIL = LAST_NAMES.map(emailSafe);
const COMPANIES_CSV = COMPANIES.map(csvField);

interface Person {
  id: string;
  email: string;
  first: number;
  last: number;
  /** already CSV-encoded */
  company: string;
  country: string;
  stage: LifecycleStage;
  createdSec: number;
  updatedSec: number;
  visits: number;
  age: number;
}

function contactLine(p: Person): string {
  return `${p.id},${p.email},${FIRST_CSV[p.first]},${LAST_CSV[p.last]},${p.company},${p.country},${p.stage},${
    isoSeconds(p.createdSec)
  },${isoSeconds(p.updatedSec)},${p.visits},${p.age}\n`;
}

function parseAsOf(asOf: string): number {
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(asOf);
  if (dateOnly) {
    const ms = Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3]));
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== asOf) {
      throw new RangeError(`asOf is not a valid date: ${asOf}`);
    }
    return ms / 1000 + DAY - 1; // end of that day
  }
  const ms = Date.parse(asOf);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(asOf) || Number.isNaN(ms)) {
    throw new RangeError(`asOf must be an ISO date (YYYY-MM-DD) or timestamp, got ${JSON.stringify(asOf)}`);
  }
  return Math.floor(ms / 1000);
}

function digits(n: number): number {
  return String(Math.max(1, Math.floor(n))).length;
}

/**
 * Writes `contacts.csv` and `transactions.csv` into `outDir` (created if missing).
 * Same options → byte-identical files. Files appear atomically (temp file + rename).
 */
export async function generateDemo(opts: GenerateDemoOptions): Promise<GenerateDemoResult> {
  const customers = opts.customers;
  const seed = opts.seed ?? 42;
  const avg = opts.avgTransactions ?? 10;
  const dirtyRate = opts.dirtyRate ?? 0.01;
  const asOf = opts.asOf ?? '2026-06-30';
  if (!Number.isSafeInteger(customers) || customers < 0) {
    throw new RangeError(`customers must be a non-negative integer, got ${customers}`);
  }
  if (!Number.isFinite(avg) || avg < 1) throw new RangeError(`avgTransactions must be >= 1, got ${avg}`);
  if (!(dirtyRate >= 0 && dirtyRate <= 0.5)) throw new RangeError(`dirtyRate must be in [0, 0.5], got ${dirtyRate}`);

  const endSec = parseAsOf(asOf);
  /** clean data stops an hour before the end so duplicate updates can be strictly later */
  const genEnd = endSec - 3600;
  const agoSec = (days: number): number => genEnd - days * DAY;
  const openSince = agoSec(90);

  const rng = new Rng(seed);
  const orderScale = Math.max(0, (avg - baseOrderMean()) / weightedOrderMean());

  const cWidth = digits(customers);
  const tWidth = Math.max(7, digits(customers * avg * 1.2));
  const contactId = (n: number): string => `c${String(n).padStart(cWidth, '0')}`;
  const missingContactId = (): string => `c9${String(rng.int(10 ** cWidth)).padStart(cWidth, '0')}`;
  // bijective scramble of 1..emailModulus-1 so email numbers look random but never collide
  const emailModulus = 10 ** (cWidth + 1);
  const emailNumber = (n: number): number => (n * 7_919_317 + 1_234_567) % emailModulus;

  const outDir = resolve(opts.outDir);
  await mkdir(outDir, { recursive: true });
  const contactsFile = join(outDir, CONTACTS_FILE);
  const transactionsFile = join(outDir, TRANSACTIONS_FILE);
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const contactsTmp = join(outDir, `.${CONTACTS_FILE}.${tag}.tmp`);
  const transactionsTmp = join(outDir, `.${TRANSACTIONS_FILE}.${tag}.tmp`);

  const cw = new ChunkWriter(contactsTmp);
  const tw = new ChunkWriter(transactionsTmp);

  const dirtyByKind = Object.fromEntries(DIRTY_KINDS.map((k) => [k, 0])) as Record<DirtyKind, number>;
  let contactRows = 0;
  let txRows = 0;
  let txSeq = 0;
  /** numbering for extra (dirty) contact rows: ids c(N+1).. and their email numbers */
  let extraSeq = customers;

  // recent clean contacts, for duplicate rows
  const RING = 64;
  const ring: Person[] = [];
  let ringPos = 0;

  const makeEmail = (first: number, last: number, n: number): string => {
    const f = FIRST_EMAIL[first] as string;
    const l = LAST_EMAIL[last] as string;
    const num = emailNumber(n);
    const domain = DOMAIN_PICK.sample(rng);
    switch (rng.int(5)) {
      case 0:
        return `${f}${l}${num}@${domain}`;
      case 1:
        return `${f.charAt(0)}.${l}${num}@${domain}`;
      case 2:
        return `${f}_${l}${num}@${domain}`;
      case 3:
        return `${l}.${f}${num}@${domain}`;
      default:
        return `${f}.${l}${num}@${domain}`;
    }
  };

  const makeMalformedEmail = (first: number, last: number, n: number): string => {
    const local = `${FIRST_EMAIL[first] as string}.${LAST_EMAIL[last] as string}`;
    const num = emailNumber(n);
    switch (rng.int(5)) {
      case 0:
        return `${local}@`; // no domain
      case 1:
        return `${local}${num}.example.com`; // no @
      case 2:
        return `${local}${num}@@example.com`; // double @
      case 3:
        return `@example.com`; // empty local part
      default:
        return `${FIRST_EMAIL[first] as string} ${LAST_EMAIL[last] as string}${num}@example.com`; // space
    }
  };

  const makeCompany = (last: number): string => {
    const u = rng.next();
    if (u < 0.35) return '';
    if (u < 0.75) return rng.pick(COMPANIES_CSV);
    return csvField(`${LAST_NAMES[last] as string} ${rng.pick(COMPANY_SUFFIXES)}`);
  };

  const makeAge = (b: Behaviour): number => {
    const a = Math.round(PROFILES[b].ageMean + 12 * rng.normal());
    return a < 18 ? 18 : a > 80 ? 80 : a;
  };

  const makeVisits = (b: Behaviour, orders: number): number =>
    rng.poisson(PROFILES[b].visitBase * Math.exp(0.4 * rng.normal()) + 1.2 * orders);

  /** A plausible contact that is not one of the N customers (for extra dirty rows). */
  const freshPerson = (id: string, emailSeq: number): Person => {
    const first = rng.int(FIRST_NAMES.length);
    const last = rng.int(LAST_NAMES.length);
    const createdSec = agoSec(rng.next() * WINDOW_DAYS);
    return {
      id,
      email: makeEmail(first, last, emailSeq),
      first,
      last,
      company: makeCompany(last),
      country: COUNTRY_PICK.sample(rng),
      stage: PROSPECT_STAGE.sample(rng),
      createdSec,
      updatedSec: Math.floor(createdSec + rng.next() * (genEnd - createdSec)),
      visits: makeVisits('none', 0),
      age: makeAge('none'),
    };
  };

  const emitDirtyContact = (): void => {
    const kind = CONTACT_DIRTY.sample(rng);
    let p: Person;
    switch (kind) {
      case 'malformed_email': {
        extraSeq++;
        p = freshPerson(contactId(extraSeq), extraSeq);
        p.email = makeMalformedEmail(p.first, p.last, extraSeq);
        break;
      }
      case 'empty_id': {
        extraSeq++;
        p = freshPerson('', extraSeq);
        break;
      }
      case 'duplicate_email': {
        const orig = ring[rng.int(ring.length)] as Person;
        extraSeq++;
        p = freshPerson(contactId(extraSeq), extraSeq);
        p.email = orig.email;
        break;
      }
      default: {
        // duplicate_update: same id again, later updated_at, a changed field
        p = ring[rng.int(ring.length)] as Person;
        // strictly later and never past the end (clean rows end an hour early; each repeat halves the gap at most)
        const gap = endSec - p.updatedSec;
        p.updatedSec += Math.max(1, Math.floor((gap / 2) * rng.next()));
        p.visits += 1 + rng.int(20);
        const stageIdx = LIFECYCLE_STAGES.indexOf(p.stage);
        if (stageIdx < LIFECYCLE_STAGES.length - 1 && rng.chance(0.5)) {
          p.stage = LIFECYCLE_STAGES[stageIdx + 1] as LifecycleStage;
        } else {
          const before = p.company;
          p.company = makeCompany(p.last);
          if (p.company === before) p.company = csvField(`${LAST_NAMES[p.last] as string} Holdings`);
        }
      }
    }
    cw.push(contactLine(p));
    contactRows++;
    dirtyByKind[kind]++;
  };

  const emitDirtyTx = (cid: string, currency: string, sec: number): void => {
    const kind = TX_DIRTY.sample(rng);
    txSeq++;
    const id = `t${String(txSeq).padStart(tWidth, '0')}`;
    const when = sec + rng.int(DAY) - DAY / 2;
    const okAmount = formatCents(1000 + rng.int(20000));
    let line: string;
    if (kind === 'bad_amount') {
      line = `${id},${cid},${BAD_AMOUNTS.sample(rng)},${currency},${isoSeconds(Math.min(when, genEnd))},won\n`;
    } else if (kind === 'bad_date') {
      line = `${id},${cid},${okAmount},${currency},${rng.pick(BAD_DATES)},won\n`;
    } else {
      line = `${id},${missingContactId()},${okAmount},${currency},${isoSeconds(Math.min(when, genEnd))},won\n`;
    }
    tw.push(line);
    txRows++;
    dirtyByKind[kind]++;
  };

  const total = customers;
  const progressStep = Math.max(1, Math.min(10_000, Math.ceil(total / 100)));
  const times: number[] = [];

  try {
    cw.push(`${CONTACT_COLUMNS.join(',')}\n`);
    tw.push(`${TRANSACTION_COLUMNS.join(',')}\n`);

    for (let i = 1; i <= customers; i++) {
      const b = BEHAVIOUR_PICK.sample(rng);
      const prof = PROFILES[b];
      const cid = contactId(i);

      // ---- orders: count and active period (in days before the end)
      let orders: number;
      let fromAgo: number;
      let toAgo: number;
      switch (b) {
        case 'none':
          orders = 0;
          fromAgo = toAgo = 0;
          break;
        case 'one_off':
          orders = 1;
          fromAgo = toAgo = rng.next() * WINDOW_DAYS;
          break;
        case 'new':
          orders = rng.chance(0.5) ? 2 : 1;
          fromAgo = 1 + rng.next() * 89;
          toAgo = 0;
          break;
        case 'loyal':
          orders = 1 + rng.poisson(orderScale * prof.orderWeight);
          fromAgo = 400 + rng.next() * (WINDOW_DAYS - 400);
          toAgo = rng.next() * 30;
          break;
        case 'big_spender':
          orders = 1 + rng.poisson(orderScale * prof.orderWeight);
          fromAgo = 60 + rng.next() * (WINDOW_DAYS - 60);
          toAgo = rng.next() * 60;
          break;
        case 'lapsing':
          orders = 1 + rng.poisson(orderScale * prof.orderWeight);
          fromAgo = 500 + rng.next() * (WINDOW_DAYS - 500);
          toAgo = 185 + rng.next() * 180;
          break;
        case 'lost':
          orders = 1 + rng.poisson(orderScale * prof.orderWeight);
          fromAgo = 700 + rng.next() * (WINDOW_DAYS - 700);
          toAgo = 400 + rng.next() * (fromAgo - 460);
          break;
      }

      // stratified (regular, jittered) purchase times, already in ascending order
      times.length = 0;
      if (orders > 0) {
        const startSec = agoSec(fromAgo);
        const span = agoSec(toAgo) - startSec;
        if (orders === 1) {
          times.push(Math.floor(b === 'new' ? startSec : startSec + rng.next() * span));
        } else {
          const slot = span / orders;
          for (let k = 0; k < orders; k++) times.push(Math.floor(startSec + (k + rng.next()) * slot));
        }
      }

      // ---- the contact
      const first = rng.int(FIRST_NAMES.length);
      const last = rng.int(LAST_NAMES.length);
      const country = COUNTRY_PICK.sample(rng);
      let stage: LifecycleStage;
      let createdSec: number;
      let lastActivity: number;
      if (orders === 0) {
        stage = PROSPECT_STAGE.sample(rng);
        createdSec = agoSec(rng.next() * WINDOW_DAYS);
        lastActivity = createdSec;
      } else {
        stage = (b === 'loyal' || b === 'big_spender') && rng.chance(0.25) ? 'evangelist' : 'customer';
        createdSec = (times[0] as number) - rng.next() * 90 * DAY;
        lastActivity = times[times.length - 1] as number;
      }
      const person: Person = {
        id: cid,
        email: makeEmail(first, last, i),
        first,
        last,
        company: makeCompany(last),
        country,
        stage,
        createdSec,
        updatedSec: Math.floor(lastActivity + rng.next() * rng.next() * (genEnd - lastActivity)),
        visits: makeVisits(b, orders),
        age: makeAge(b),
      };
      cw.push(contactLine(person));
      contactRows++;
      if (ring.length < RING) ring.push(person);
      else ring[ringPos] = person;
      ringPos = (ringPos + 1) % RING;
      if (dirtyRate > 0 && rng.next() < dirtyRate) emitDirtyContact();

      // ---- its transactions
      if (orders > 0) {
        const currency = GBP_COUNTRIES.has(country)
          ? (rng.chance(0.6) ? 'GBP' : 'USD')
          : EUR_COUNTRIES.has(country)
            ? (rng.chance(0.6) ? 'EUR' : 'USD')
            : 'USD';
        const median = prof.amountMedian * Math.exp(0.3 * rng.normal());
        const sigma = prof.amountSigma;
        let chunk = '';
        for (let k = 0; k < orders; k++) {
          const sec = times[k] as number;
          let cents = Math.round(rng.logNormal(median, sigma) * 100);
          if (cents < 100) cents = 100 + rng.int(400);
          txSeq++;
          let status = STATUS.sample(rng);
          if (status === 'open' && sec < openSince) status = 'won'; // only recent deals are still open
          chunk += `t${String(txSeq).padStart(tWidth, '0')},${cid},${formatCents(cents)},${currency},${
            isoSeconds(sec)
          },${status}\n`;
          txRows++;
          if (dirtyRate > 0 && rng.next() < dirtyRate) {
            tw.push(chunk);
            chunk = '';
            emitDirtyTx(cid, currency, sec);
          }
        }
        tw.push(chunk);
      }

      if (cw.full) await cw.flush();
      if (tw.full) await tw.flush();
      if (opts.onProgress && (i % progressStep === 0 || i === total)) opts.onProgress(i, total);
    }
    if (opts.onProgress && total === 0) opts.onProgress(0, 0);

    await Promise.all([cw.close(), tw.close()]);
    await rename(contactsTmp, contactsFile);
    await rename(transactionsTmp, transactionsFile);
  } catch (err) {
    await Promise.all([cw.destroy(), tw.destroy()]);
    await Promise.all([unlink(contactsTmp).catch(() => undefined), unlink(transactionsTmp).catch(() => undefined)]);
    throw err;
  }

  const dirtyRows = DIRTY_KINDS.reduce((acc, k) => acc + dirtyByKind[k], 0);
  return { contactsFile, transactionsFile, contacts: contactRows, transactions: txRows, dirtyRows, dirtyByKind };
}
