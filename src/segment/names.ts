/**
 * Deterministic, unique, human names from segment profiles. With RFM features
 * each segment is scored against marketing archetypes and the names are
 * assigned one-to-one (Hungarian) so two segments never share a name; without
 * RFM a segment is named by its most distinctive features.
 */
import { hungarian } from './hungarian.js';

/** Per-segment standardized centroid: column name -> z. */
export type ZProfile = Record<string, number>;

interface Archetype {
  name: string;
  score(z: (c: string) => number): number;
}

// r is "how recent" (minus the recency z), so higher is better everywhere
const ARCHETYPES: Archetype[] = [
  { name: 'Champions', score: (z) => -z('recency_days') + z('frequency') + z('monetary') },
  { name: 'Loyal customers', score: (z) => z('frequency') + z('tenure_days') - 0.5 * Math.abs(z('recency_days')) },
  { name: 'Big spenders', score: (z) => 1.5 * z('avg_order_value') + 0.5 * z('monetary') - 0.5 * z('frequency') },
  { name: 'New customers', score: (z) => -z('recency_days') - 1.5 * z('tenure_days') - 0.5 * z('frequency') },
  { name: 'Promising', score: (z) => -0.5 * z('recency_days') - 0.5 * z('tenure_days') + 0.5 * z('avg_order_value') },
  { name: 'At risk', score: (z) => z('recency_days') + z('frequency') + 0.5 * z('monetary') },
  { name: "Can't lose them", score: (z) => z('recency_days') + 1.5 * z('monetary') + 0.5 * z('frequency') - 0.5 },
  { name: 'Hibernating', score: (z) => 0.7 * z('recency_days') - 0.5 * z('frequency') - 0.5 * z('monetary') },
  { name: 'Lost', score: (z) => 1.5 * z('recency_days') - z('frequency') - 0.5 },
  { name: 'One-time buyers', score: (z) => -1.5 * z('frequency') + 0.2 * z('tenure_days') },
  { name: 'Needs attention', score: (z) => -0.3 * Math.abs(z('recency_days')) - 0.3 * Math.abs(z('frequency')) - 0.3 * Math.abs(z('monetary')) },
];

const RFM = ['recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days'];

export function nameSegments(profiles: readonly ZProfile[]): string[] {
  const isRfm = profiles.length > 0 && RFM.every((c) => c in (profiles[0] ?? {}));
  return isRfm ? rfmNames(profiles) : featureNames(profiles);
}

function rfmNames(profiles: readonly ZProfile[]): string[] {
  const cost = profiles.map((p) => ARCHETYPES.map((a) => -a.score((c) => p[c] ?? 0)));
  const assign = hungarian(cost);
  let extra = 0;
  return assign.map((j) => (j >= 0 ? (ARCHETYPES[j] as Archetype).name : `Segment ${ARCHETYPES.length + ++extra}`));
}

function label(col: string, z: number): string {
  const eq = col.indexOf('=');
  // a one-hot column's "z" is the share of the segment with that value
  if (eq > 0) return `${z >= 0.5 ? 'Mostly' : 'Few'} ${col.slice(0, eq).replace(/_/g, ' ')} ${col.slice(eq + 1)}`;
  const words = col.replace(/_/g, ' ');
  return `${z >= 0 ? 'High' : 'Low'} ${words}`;
}

function featureNames(profiles: readonly ZProfile[]): string[] {
  const ranked = profiles.map((p) =>
    Object.entries(p)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0].localeCompare(b[0]))
      .map(([c, z]) => label(c, z)),
  );
  const names = ranked.map((r) => r[0] ?? 'Segment');
  // add the next distinguishing feature until every name is unique
  for (let depth = 1; depth < 4; depth++) {
    const seen = new Map<string, number>();
    names.forEach((n) => seen.set(n, (seen.get(n) ?? 0) + 1));
    if ([...seen.values()].every((v) => v === 1)) break;
    names.forEach((n, i) => {
      const next = ranked[i]?.[depth];
      if ((seen.get(n) ?? 0) > 1 && next) names[i] = `${n}, ${next.toLowerCase()}`;
    });
  }
  const count = new Map<string, number>();
  return names.map((n) => {
    const c = (count.get(n) ?? 0) + 1;
    count.set(n, c);
    return c > 1 ? `${n} (${c})` : n;
  });
}
