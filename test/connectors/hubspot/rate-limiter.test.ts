/** The run's request budget: sliding windows, search's own limit, pauses after a 429. */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../connectors/hubspot/rate-limiter.js';

describe('RateLimiter', () => {
  it('allows the budget per 10 s window and says how long until the next slot', () => {
    let t = 0;
    const l = new RateLimiter({ requestsPer10s: 3, searchPerSecond: 10 }, () => t);
    expect([l.take('general'), l.take('general')]).toEqual([0, 0]);
    t = 4_000;
    expect(l.take('general')).toBe(0);
    expect(l.take('general')).toBe(6_000);
    // the two calls made at 0 leave the window at 10 s; the one at 4 s stays until 14 s
    t = 10_000;
    expect([l.take('general'), l.take('general'), l.take('general')]).toEqual([0, 0, 4_000]);
  });

  it('limits search calls per second on top of the general budget', () => {
    let t = 0;
    const l = new RateLimiter({ requestsPer10s: 100, searchPerSecond: 2 }, () => t);
    expect([l.take('search'), l.take('search'), l.take('search')]).toEqual([0, 0, 1_000]);
    expect(l.take('general')).toBe(0);
    t = 1_000;
    expect(l.take('search')).toBe(0);
  });

  it('holds every call after a 429 for the wait HubSpot asked for', () => {
    let t = 0;
    const l = new RateLimiter({ requestsPer10s: 100, searchPerSecond: 4 }, () => t);
    l.pause(2_500);
    expect(l.take('general')).toBe(2_500);
    t = 2_500;
    expect(l.take('general')).toBe(0);
  });
});
