import { describe, expect, it } from 'vitest';
import type { ChangeOp, OnderwerpobjectRow, RowChange } from '../../src/decode/change.js';
import type { Link } from '../../src/link/rule.js';
import { transition, type LinkData, type LinkState } from '../../src/transition/transition.js';

const zaakA = '11111111-1111-4111-8111-111111111111';
const zaakB = '22222222-2222-4222-8222-222222222222';
const rowUuid = '5fee9673-216c-41e7-91d2-69a8d1526b9f';

const linkedRow = (objectId: string): OnderwerpobjectRow => ({
  id: '1',
  uuid: rowUuid,
  klantcontactId: '9',
  objectId,
  codeObjecttype: 'zaak',
  codeRegister: 'open-zaak',
  codeSoortObjectId: 'uuid',
});
const deleteBefore: OnderwerpobjectRow = {
  id: '1',
  uuid: null,
  klantcontactId: null,
  objectId: null,
  codeObjecttype: null,
  codeRegister: null,
  codeSoortObjectId: null,
};

const describeLink = (link: Link): LinkData => ({
  zaak: `urn:uuid:${link.zaak}`,
  linkTo: `https://ok.example/${link.onderwerpobjectUuid}`,
  label: `label of ${link.zaak}`,
  linkObjectType: 'Onderwerpobject',
});
const stateOf = (zaak: string): LinkState => ({
  zaak,
  data: describeLink({ zaak, onderwerpobjectUuid: rowUuid, klantcontactId: '9' }),
});
const change = (op: ChangeOp, after: OnderwerpobjectRow | null): RowChange => ({
  kind: 'change',
  key: '1',
  op,
  before: op === 'd' ? deleteBefore : null,
  after,
  position: { lsn: '100', sequence: ['90', '100'], txId: '5', tsMs: 0, snapshot: false },
});
const gekoppeld = (zaak: string) => ({ type: 'zaak-gekoppeld', zaak, data: stateOf(zaak).data });
const ontkoppeld = (zaak: string) => ({ type: 'zaak-ontkoppeld', zaak, data: stateOf(zaak).data });

describe('transition', () => {
  it.each([
    ['create linked row', null, change('c', linkedRow(zaakA)), stateOf(zaakA), [gekoppeld(zaakA)]],
    [
      'create non-zaak row',
      null,
      change('c', { ...linkedRow(zaakA), codeObjecttype: 'klant' }),
      null,
      [],
    ],
    [
      'create zaak row without klantcontact',
      null,
      change('c', { ...linkedRow(zaakA), klantcontactId: null }),
      null,
      [],
    ],
    ['delete linked row', stateOf(zaakA), change('d', null), null, [ontkoppeld(zaakA)]],
    ['delete row without state', null, change('d', null), null, []],
    [
      'update to non-zaak row',
      stateOf(zaakA),
      change('u', { ...linkedRow(zaakA), codeObjecttype: 'klant' }),
      null,
      [ontkoppeld(zaakA)],
    ],
    [
      'update removing klantcontact',
      stateOf(zaakA),
      change('u', { ...linkedRow(zaakA), klantcontactId: null }),
      null,
      [ontkoppeld(zaakA)],
    ],
    ['update keeping the zaak', stateOf(zaakA), change('u', linkedRow(zaakA)), stateOf(zaakA), []],
    [
      'update changing only case',
      stateOf(zaakA),
      change('u', linkedRow(zaakA.toUpperCase())),
      stateOf(zaakA),
      [],
    ],
    [
      'update changing the zaak',
      stateOf(zaakA),
      change('u', linkedRow(zaakB)),
      stateOf(zaakB),
      [ontkoppeld(zaakA), gekoppeld(zaakB)],
    ],
    [
      'update linking an unlinked row',
      null,
      change('u', linkedRow(zaakB)),
      stateOf(zaakB),
      [gekoppeld(zaakB)],
    ],
    [
      'update to an object id that is not a uuid',
      stateOf(zaakA),
      change('u', linkedRow('not-a-uuid')),
      null,
      [ontkoppeld(zaakA)],
    ],
    ['snapshot read of linked row', null, change('r', linkedRow(zaakA)), stateOf(zaakA), []],
    [
      'snapshot read with another zaak in state',
      stateOf(zaakA),
      change('r', linkedRow(zaakB)),
      stateOf(zaakB),
      [ontkoppeld(zaakA), gekoppeld(zaakB)],
    ],
    [
      'snapshot read of unlinked row with state',
      stateOf(zaakA),
      change('r', { ...linkedRow(zaakA), klantcontactId: null }),
      null,
      [ontkoppeld(zaakA)],
    ],
  ])('%s', (_name, previous, rowChange, next, events) => {
    const result = transition(previous, rowChange, describeLink);
    expect(result.next).toEqual(next);
    expect(result.events).toEqual(events);
  });

  it('emits gekoppeld for a snapshot read when asked to', () => {
    const result = transition(null, change('r', linkedRow(zaakA)), describeLink, true);
    expect(result.next).toEqual(stateOf(zaakA));
    expect(result.events).toEqual([gekoppeld(zaakA)]);
  });

  it('emits nothing for a snapshot read of a row already in state', () => {
    const result = transition(stateOf(zaakA), change('r', linkedRow(zaakA)), describeLink, true);
    expect(result.events).toEqual([]);
  });

  it('keeps the stored data when the zaak stays', () => {
    const stored: LinkState = { ...stateOf(zaakA), data: { ...stateOf(zaakA).data, label: 'old' } };
    const result = transition(stored, change('u', linkedRow(zaakA)), describeLink);
    expect(result.next).toBe(stored);
  });

  it('unlinks with the data the link opened with', () => {
    const stored: LinkState = { ...stateOf(zaakA), data: { ...stateOf(zaakA).data, label: 'old' } };
    const result = transition(stored, change('d', null), describeLink);
    expect(result.events).toEqual([{ type: 'zaak-ontkoppeld', zaak: zaakA, data: stored.data }]);
  });

  it('reports an object id that is not a uuid', () => {
    const result = transition(null, change('c', linkedRow('ZAAK-2024-1')), describeLink);
    expect(result.problem).toBe('OBJECT_ID_NOT_A_UUID');
  });
});
