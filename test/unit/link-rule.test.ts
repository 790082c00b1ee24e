import { describe, expect, it } from 'vitest';
import type { OnderwerpobjectRow } from '../../src/decode/change.js';
import { linkOf } from '../../src/link/rule.js';

const zaak = 'a7b3c8d9-e4f5-6a7b-8c9d-e0f1a2b3c4d5';
const linked: OnderwerpobjectRow = {
  id: '7',
  uuid: '5fee9673-216c-41e7-91d2-69a8d1526b9f',
  klantcontactId: '3',
  objectId: zaak,
  codeObjecttype: 'zaak',
  codeRegister: 'open-zaak',
  codeSoortObjectId: 'uuid',
};
const link = { zaak, onderwerpobjectUuid: linked.uuid, klantcontactId: '3' };

describe('linkOf', () => {
  it.each([
    ['zaak row with klantcontact', linked, { link, problem: null }],
    ['no row', null, { link: null, problem: null }],
    ['objecttype not zaak', { ...linked, codeObjecttype: 'klant' }, { link: null, problem: null }],
    [
      'objecttype Zaak in other case',
      { ...linked, codeObjecttype: 'Zaak' },
      { link: null, problem: null },
    ],
    [
      'soort object id not uuid',
      { ...linked, codeSoortObjectId: 'nummer' },
      { link: null, problem: null },
    ],
    ['no klantcontact', { ...linked, klantcontactId: null }, { link: null, problem: null }],
    ['register other than open-zaak', { ...linked, codeRegister: 'zrc' }, { link, problem: null }],
    [
      'object id in upper case',
      { ...linked, objectId: zaak.toUpperCase() },
      { link, problem: null },
    ],
    ['object id with spaces', { ...linked, objectId: `  ${zaak}\t` }, { link, problem: null }],
    [
      'object id not a uuid',
      { ...linked, objectId: 'ZAAK-2024-001' },
      { link: null, problem: 'OBJECT_ID_NOT_A_UUID' },
    ],
    [
      'object id empty',
      { ...linked, objectId: '' },
      { link: null, problem: 'OBJECT_ID_NOT_A_UUID' },
    ],
    [
      'uuid without dashes',
      { ...linked, objectId: zaak.replaceAll('-', '') },
      { link: null, problem: 'OBJECT_ID_NOT_A_UUID' },
    ],
    ['row uuid missing', { ...linked, uuid: null }, { link: null, problem: 'ROW_UUID_MISSING' }],
  ])('%s', (_name, row, expected) => {
    expect(linkOf(row as OnderwerpobjectRow | null)).toEqual(expected);
  });
});
