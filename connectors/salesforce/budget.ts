/**
 * The job's API budget. Salesforce reports the org's daily usage on every REST
 * response (`Sforce-Limit-Info: api-usage=used/max`); the first one a job sees
 * fixes what was left when the job started, and the job may spend at most
 * `maxApiShare` of that. A call over budget is refused before it is sent, as a
 * daily_limit error: the sync stops with its checkpoint, the push with its
 * outbox, like on REQUEST_LIMIT_EXCEEDED.
 */
import { RemoteError } from '../../src/core/errors.js';

export interface Usage {
  used: number;
  max: number;
}

export function parseLimitInfo(header: string | undefined): Usage | undefined {
  const m = header ? /api-usage=(\d+)\/(\d+)/.exec(header) : null;
  return m ? { used: Number(m[1]), max: Number(m[2]) } : undefined;
}

export class ApiBudget {
  /** Calls this job sent (every HTTP request to the org's APIs; OAuth token calls do not count). */
  spent = 0;
  /** Daily calls left when the job started, once known. */
  leftAtStart: number | undefined;
  /** Calls this job may send, once known. */
  allowance: number | undefined;
  /** Latest usage the org reported. */
  latest: Usage | undefined;

  constructor(readonly share: number) {}

  /** Called before sending; throws when the job has spent its share. */
  take(label: string): void {
    if (this.allowance !== undefined && this.spent >= this.allowance) {
      throw new RemoteError(
        'daily_limit',
        `${label}: this job reached its API budget: ${this.spent} calls sent, the most allowed by maxApiShare ${this.share} of the ${this.leftAtStart} daily calls left when it started`,
        { hint: 'progress is saved; run again later (the daily allowance is a rolling 24 hours) or raise maxApiShare in the connector config' },
      );
    }
    this.spent++;
  }

  /** Called with each response's Sforce-Limit-Info header. */
  observe(header: string | undefined): void {
    const u = parseLimitInfo(header);
    if (!u) return;
    this.latest = u;
    if (this.leftAtStart === undefined) {
      // the reported usage already counts the calls this job sent so far
      this.leftAtStart = Math.max(0, u.max - u.used + this.spent);
      this.allowance = Math.floor(this.share * this.leftAtStart);
    }
  }

  /** Daily calls the org has left, as last reported. */
  remaining(): number | undefined {
    return this.latest ? Math.max(0, this.latest.max - this.latest.used) : undefined;
  }
}
