/** The request-model check itself catches what it should. */
import { describe, expect, it } from 'vitest';
import { conform } from './sdk-models.js';

describe('SDK request model check', () => {
  it('accepts a conforming body and flags unknown keys, missing required keys, wrong types and enum values', () => {
    expect(conform({ name: 'segsync: A', objectTypeId: '0-1', processingType: 'MANUAL' }, 'ListCreateRequest', 'lists', 'b')).toEqual([]);
    expect(conform({ name: 'x', objectTypeId: '0-1', processingType: 'MANUAL', folder: 3 }, 'ListCreateRequest', 'lists', 'b')).toEqual(['b.folder: not an attribute of ListCreateRequest']);
    expect(conform({ recordIdsToAdd: ['1'] }, 'MembershipChangeRequest', 'lists', 'b')).toEqual(['b.recordIdsToRemove: required by MembershipChangeRequest']);
    expect(conform({ recordIdsToAdd: [1], recordIdsToRemove: [] }, 'MembershipChangeRequest', 'lists', 'b')).toEqual(['b.recordIdsToAdd[0]: expected string, got 1']);
    expect(
      conform({ name: 'p', label: 'P', groupName: 'g', type: 'dropdown', fieldType: 'select' }, 'PropertyCreate', 'properties', 'b')[0],
    ).toMatch(/^b\.type: "dropdown" is not one of/);
    expect(conform({ inputs: [{ id: '1', properties: { p: 'v' } }] }, 'BatchInputSimplePublicObjectBatchInput', 'contacts', 'b')).toEqual([]);
    expect(conform({ sorts: ['hs_object_id'] }, 'PublicObjectSearchRequest', 'contacts', 'b')).toEqual(['b.sorts: not the documented shape']);
  });
});
