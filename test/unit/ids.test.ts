import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { customerIdFor, identityKey } from '../../src/store/ids.js';

describe('customer ids', () => {
  it('are the ids every store already holds (first 20 hex digits of SHA-256 of the UTF-8 identity key)', () => {
    // literals from the createHash implementation: a store synced before keeps its customers
    expect(customerIdFor('email:ann@example.com')).toBe('cus_35f3b3170d36d0a179d1');
    expect(customerIdFor('contact:files:c000001')).toBe('cus_588ea353fc9156c08a27');
    expect(customerIdFor('email:zoë@exämple.com')).toBe('cus_e40cd86c972280af199c');
    for (const key of ['email:a@b.co', 'contact:hubspot:123', 'email:中文@例え.jp']) {
      expect(customerIdFor(key)).toBe(`cus_${createHash('sha256').update(key).digest('hex').slice(0, 20)}`);
    }
  });

  it('come from the email when there is one, else from the contact', () => {
    expect(identityKey('files:c1', 'ann@example.com')).toBe('email:ann@example.com');
    expect(identityKey('files:c1', undefined)).toBe('contact:files:c1');
  });
});
