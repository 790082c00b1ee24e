import { describe, expect, it } from 'vitest';
import { processBatch, type BatchSettings } from '../../src/processor/batch.js';
import type { LinkState } from '../../src/transition/transition.js';
import { asMessages, fixture, type FixtureFile } from '../support/fixtures.js';

const settings: BatchSettings = {
  topic: 'openklant.public.klantinteracties_onderwerpobject',
  partition: 2,
  source: 'urn:nld:oin:01823288444:openklant',
  openKlantBaseUrl: 'http://open-klant.local:8000',
};

interface Row {
  id: number;
  uuid: string;
  onderwerpobjectidentificator_object_id: string;
}

function afterOf(name: string, file: FixtureFile = 'with-schemas.json') {
  const parsed = JSON.parse(fixture(file, name).value!);
  const envelope = 'payload' in parsed ? parsed.payload : parsed;
  return { row: envelope.after as Row, tsMs: envelope.source.ts_ms as number };
}

function wholeSeconds(tsMs: number): string {
  return new Date(tsMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

function expectedEvent(type: string, zaak: string, rowUuid: string, tsMs: number) {
  return {
    key: zaak,
    headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' },
    value: {
      specversion: '1.0',
      type: `nl.overheid.zaken.${type}`,
      source: settings.source,
      subject: zaak,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      time: wholeSeconds(tsMs),
      datacontenttype: 'application/json',
      partitionkey: zaak,
      data: {
        zaak: `urn:uuid:${zaak}`,
        linkTo: `http://open-klant.local:8000/klantinteracties/api/v1/onderwerpobjecten/${rowUuid}`,
        label: '',
        linkObjectType: 'Onderwerpobject',
      },
    },
  };
}

function published(result: ReturnType<typeof processBatch>) {
  return result.events.map((message) => ({
    key: message.key,
    headers: message.headers,
    value: JSON.parse(message.value),
  }));
}

const lifecycle = [
  'create linked',
  'update register',
  'update zaak',
  'update objecttype',
  'delete',
  'tombstone',
];

describe.each<FixtureFile>(['with-schemas.json', 'without-schemas.json'])(
  'processBatch on %s',
  (file) => {
    it('emits the link events of a row lifecycle', () => {
      const records = lifecycle.map((name) => fixture(file, name));
      const created = afterOf('create linked', file);
      const moved = afterOf('update zaak', file);
      const unlinked = afterOf('update objecttype', file);
      const firstZaak = created.row.onderwerpobjectidentificator_object_id;
      const secondZaak = moved.row.onderwerpobjectidentificator_object_id;

      const result = processBatch(asMessages(records), new Map(), settings);

      expect(published(result)).toEqual([
        expectedEvent('zaak-gekoppeld', firstZaak, created.row.uuid, created.tsMs),
        expectedEvent('zaak-ontkoppeld', firstZaak, created.row.uuid, moved.tsMs),
        expectedEvent('zaak-gekoppeld', secondZaak, created.row.uuid, moved.tsMs),
        expectedEvent('zaak-ontkoppeld', secondZaak, created.row.uuid, unlinked.tsMs),
      ]);
      expect(result.eventCounts).toEqual({ 'zaak-gekoppeld': 2, 'zaak-ontkoppeld': 2 });
      expect(result.tombstones).toBe(1);
      expect(result.nextOffset).toBe('106');
      expect(result.updates).toEqual(new Map([[String(created.row.id), null]]));
      expect(result.changelog.map((record) => [record.partition, record.value === null])).toEqual([
        [2, false],
        [2, false],
        [2, true],
      ]);
    });

    it('gives the same event ids on a replay', () => {
      const messages = asMessages(lifecycle.map((name) => fixture(file, name)));
      const ids = (result: ReturnType<typeof processBatch>) =>
        result.events.map((message) => JSON.parse(message.value).id as string);

      const first = ids(processBatch(messages, new Map(), settings));
      const replay = ids(processBatch(messages, new Map(), settings));

      expect(replay).toEqual(first);
      expect(new Set(first).size).toBe(4);
    });

    it('seeds state from a snapshot read and unlinks on delete', () => {
      const snapshot = afterOf('snapshot read of a linked row', file);
      const zaak = snapshot.row.onderwerpobjectidentificator_object_id;
      const deleted = JSON.parse(fixture(file, 'delete after snapshot').value!);
      const deleteTs = ('payload' in deleted ? deleted.payload : deleted).source.ts_ms;

      const seeded = processBatch(
        asMessages([fixture(file, 'snapshot read of a linked row')]),
        new Map(),
        settings,
      );
      const state = new Map([
        [String(snapshot.row.id), seeded.updates.get(String(snapshot.row.id))!],
      ]);
      const afterDelete = processBatch(
        asMessages([fixture(file, 'delete after snapshot')]),
        state,
        settings,
      );

      expect(published(seeded)).toEqual([]);
      expect(published(afterDelete)).toEqual([
        expectedEvent('zaak-ontkoppeld', zaak, snapshot.row.uuid, deleteTs),
      ]);
    });

    it('unlinks with the stored data, not the current base URL', () => {
      const created = afterOf('create linked', file);
      const stored: LinkState = {
        zaak: created.row.onderwerpobjectidentificator_object_id,
        data: {
          zaak: `urn:uuid:${created.row.onderwerpobjectidentificator_object_id}`,
          linkTo: 'https://old-host.example/x',
          label: 'Oud label',
          linkObjectType: 'Onderwerpobject',
        },
      };
      const state = new Map([[String(created.row.id), stored]]);

      const result = processBatch(asMessages([fixture(file, 'delete')]), state, settings);

      expect(published(result).map((event) => event.value.data)).toEqual([stored.data]);
    });
  },
);

describe('processBatch with bad records', () => {
  it('sends a bad record to the dead-letter topic and processes the rest', () => {
    const created = fixture('without-schemas.json', 'create linked');
    const moved = fixture('without-schemas.json', 'update zaak');
    const messages = asMessages([created, { key: created.key, value: '{"op":' }, moved]);
    messages[1]!.headers = { traceparent: '00-abc-def-01' };

    const result = processBatch(messages, new Map(), settings);

    expect(result.events).toHaveLength(3);
    expect(result.deadLetters).toEqual([
      {
        offset: '101',
        code: 'INVALID_JSON',
        reason: expect.stringContaining('Record value is not valid JSON'),
        message: {
          key: Buffer.from(created.key),
          value: Buffer.from('{"op":'),
          headers: {
            traceparent: '00-abc-def-01',
            'deadletter.error.code': 'INVALID_JSON',
            'deadletter.error.message': expect.stringContaining('Record value is not valid JSON'),
            'deadletter.source.topic': settings.topic,
            'deadletter.source.partition': '2',
            'deadletter.source.offset': '101',
            'deadletter.source.timestamp': '1796399176000',
          },
        },
      },
    ]);
  });
});
