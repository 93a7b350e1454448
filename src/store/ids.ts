import { createHash } from 'node:crypto';

/** Identity key of the customer a contact belongs to. */
export function identityKey(contactId: string, email: string | undefined): string {
  return email ? `email:${email}` : `contact:${contactId}`;
}

/** Deterministic customer id from the identity key, so reruns build the same store. */
export function customerIdFor(key: string): string {
  return `cus_${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}
