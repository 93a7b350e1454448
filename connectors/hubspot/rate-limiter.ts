/**
 * The client-side request budget of one run: sliding windows of 10 s for all
 * calls and 1 s for search calls. It never sleeps: take() either takes a slot
 * or says how long until one frees, and the caller turns that into a
 * rate_limit error the project's retry policy waits out.
 */
export type CallKind = 'general' | 'search';

export interface RateBudget {
  requestsPer10s: number;
  searchPerSecond: number;
}

const GENERAL_WINDOW_MS = 10_000;
const SEARCH_WINDOW_MS = 1_000;

export class RateLimiter {
  private readonly general: number[] = [];
  private readonly search: number[] = [];
  private pausedUntil = 0;

  constructor(
    private readonly budget: RateBudget,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a slot now (returns 0), or returns the milliseconds until one frees. */
  take(kind: CallKind): number {
    const t = this.now();
    if (t < this.pausedUntil) return this.pausedUntil - t;
    prune(this.general, t - GENERAL_WINDOW_MS);
    let wait = 0;
    if (this.general.length >= this.budget.requestsPer10s) wait = (this.general[0] as number) + GENERAL_WINDOW_MS - t;
    if (kind === 'search') {
      prune(this.search, t - SEARCH_WINDOW_MS);
      if (this.search.length >= this.budget.searchPerSecond) wait = Math.max(wait, (this.search[0] as number) + SEARCH_WINDOW_MS - t);
    }
    if (wait > 0) return wait;
    this.general.push(t);
    if (kind === 'search') this.search.push(t);
    return 0;
  }

  /** After a 429: no call of this run starts before `ms` from now. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }
}

/** Drops timestamps at or before `until` (the array is in ascending order). */
function prune(ts: number[], until: number): void {
  let i = 0;
  while (i < ts.length && (ts[i] as number) <= until) i++;
  if (i) ts.splice(0, i);
}
