import { describe, expect, it } from 'vitest';
import {
  decodeKlantcontactJson,
  type KlantcontactChange,
} from '../../src/decode/klantcontact-json.js';
import { KlantcontactVersions } from '../../src/label/versions.js';
import { fixture, type FixtureFile } from '../support/fixtures.js';

const files: FixtureFile[] = [
  'klantcontact-with-schemas.json',
  'klantcontact-without-schemas.json',
];

function decode(file: FixtureFile, name: string): KlantcontactChange {
  const record = fixture(file, name);
  return decodeKlantcontactJson(
    Buffer.from(record.key),
    record.value === null ? null : Buffer.from(record.value),
  );
}

function rawOf(file: FixtureFile, name: string) {
  const parsed = JSON.parse(fixture(file, name).value!);
  const envelope = 'payload' in parsed ? parsed.payload : parsed;
  const [lastCommitLsn, changeLsn] = JSON.parse(envelope.source.sequence);
  return { id: String(envelope.after?.id ?? envelope.before.id), lastCommitLsn, changeLsn };
}

describe.each(files)('decodeKlantcontactJson on %s', (file) => {
  it.each([
    ['create', 'Vraag over de afvalpas', 'KC-2041'],
    ['update onderwerp', 'Vraag over de nieuwe afvalpas', 'KC-2041'],
    ['update nummer to null', 'Vraag over de nieuwe afvalpas', null],
  ])('decodes %s', (name, onderwerp, nummer) => {
    const raw = rawOf(file, name);
    expect(decode(file, name)).toEqual({
      kind: 'upsert',
      id: raw.id,
      onderwerp,
      nummer,
      position: { lastCommitLsn: raw.lastCommitLsn, changeLsn: raw.changeLsn },
    });
  });

  it('decodes a delete', () => {
    const raw = rawOf(file, 'delete');
    expect(decode(file, 'delete')).toEqual({
      kind: 'delete',
      id: raw.id,
      position: { lastCommitLsn: raw.lastCommitLsn, changeLsn: raw.changeLsn },
    });
  });

  it('decodes a tombstone', () => {
    expect(decode(file, 'tombstone')).toEqual({ kind: 'tombstone', id: rawOf(file, 'delete').id });
  });
});

describe('decodeKlantcontactJson on rows flattened by ExtractNewRecordState', () => {
  const file: FixtureFile = 'klantcontact-flattened.json';
  const positionOf = (name: string) => {
    const row = JSON.parse(fixture(file, name).value!);
    const [lastCommitLsn, changeLsn] = JSON.parse(row.__sequence);
    return { lastCommitLsn, changeLsn };
  };
  const id = String(JSON.parse(fixture(file, 'create').key).id);

  it.each([
    ['create', 'Vraag over de afvalpas', 'KC-2041'],
    ['update onderwerp', 'Vraag over de nieuwe afvalpas', 'KC-2041'],
    ['update nummer to null', 'Vraag over de nieuwe afvalpas', null],
  ])('decodes %s with all metadata fields', (name, onderwerp, nummer) => {
    expect(decode(file, name)).toEqual({
      kind: 'upsert',
      id,
      onderwerp,
      nummer,
      position: positionOf(name),
    });
  });

  it('decodes a rewritten delete, whose row holds empty strings', () => {
    expect(decode(file, 'delete')).toEqual({ kind: 'delete', id, position: positionOf('delete') });
  });

  it.each([
    ['create', 'Vraag over de afvalpas', 'KC-2041'],
    ['update onderwerp', 'Vraag over de nieuwe afvalpas', 'KC-2041'],
    ['update nummer to null', 'Vraag over de nieuwe afvalpas', null],
  ])('decodes %s without metadata fields, without a position', (name, onderwerp, nummer) => {
    expect(decode('klantcontact-flattened-defaults.json', name)).toEqual({
      kind: 'upsert',
      id,
      onderwerp,
      nummer,
      position: null,
    });
  });

  it('decodes the tombstone that the default delete handling leaves', () => {
    expect(decode('klantcontact-flattened-defaults.json', 'tombstone')).toEqual({
      kind: 'tombstone',
      id,
    });
  });
});

describe('decodeKlantcontactJson on bad records', () => {
  const created = fixture('klantcontact-without-schemas.json', 'create');

  it.each([
    ['a key without id', '{"pk":1}', created.value, 'Klantcontact record key has no integer "id".'],
    [
      'a value that is not an envelope',
      created.key,
      '[1]',
      'Klantcontact record value is an array',
    ],
    [
      'an after row without onderwerp',
      created.key,
      JSON.stringify({ ...JSON.parse(created.value!), after: { id: 1 } }),
      'Klantcontact envelope with op "c" has no "after" row with an onderwerp.',
    ],
  ])('rejects %s', (_name, key, value, message) => {
    expect(() =>
      decodeKlantcontactJson(Buffer.from(key), value === null ? null : Buffer.from(value)),
    ).toThrow(message);
  });
});

describe('KlantcontactVersions', () => {
  const file: FixtureFile = 'klantcontact-with-schemas.json';
  const names = ['create', 'update onderwerp', 'update nummer to null', 'delete', 'tombstone'];
  const changes = names.map((name) => decode(file, name));
  const raws = names.slice(0, 4).map((name) => rawOf(file, name));
  const id = raws[0]!.id;
  const at = (index: number) => ({
    lastCommitLsn: raws[index]!.lastCommitLsn,
    changeLsn: raws[index]!.changeLsn,
  });

  function versionsAfter(count: number): KlantcontactVersions {
    const versions = new KlantcontactVersions(80);
    for (const change of changes.slice(0, count)) {
      versions.apply(1, change);
    }
    return versions;
  }

  it.each([
    ['the create', 0, 'Vraag over de afvalpas - (KC-2041)'],
    ['the onderwerp update', 1, 'Vraag over de nieuwe afvalpas - (KC-2041)'],
    ['the nummer update', 2, 'Vraag over de nieuwe afvalpas'],
  ])('labels a change in the transaction of %s', (_name, index, label) => {
    expect(versionsAfter(5).label(id, at(index))).toBe(label);
  });

  it('labels with the latest version when the change has no position', () => {
    expect(versionsAfter(3).label(id, null)).toBe('Vraag over de nieuwe afvalpas');
  });

  it('returns no label for a deleted klantcontact', () => {
    expect(versionsAfter(5).label(id, at(3))).toBeNull();
  });

  it('returns no label for an unknown klantcontact', () => {
    expect(versionsAfter(5).label('999999', at(0))).toBeNull();
  });

  it('answers once the partition was read past the transaction', () => {
    const ends = new Map([[1, 1_000n]]);
    const readTo = new Map([[1, 1n]]);

    expect(versionsAfter(0).answers({ klantcontactId: id, position: at(0) }, readTo, ends)).toBe(
      false,
    );
    expect(versionsAfter(1).answers({ klantcontactId: id, position: at(0) }, readTo, ends)).toBe(
      false,
    );
    expect(versionsAfter(2).answers({ klantcontactId: id, position: at(0) }, readTo, ends)).toBe(
      true,
    );
  });

  it('answers once the partition was read to its end', () => {
    const ends = new Map([[1, 5n]]);
    expect(
      versionsAfter(1).answers({ klantcontactId: id, position: at(0) }, new Map([[1, 5n]]), ends),
    ).toBe(true);
  });
});
