import { describe, expect, it } from 'vitest';
import { DeadLetterError } from '../../src/errors.js';
import { processBatch, type BatchSettings } from '../../src/processor/batch.js';
import { decodeJsonMessages } from '../../src/processor/decode.js';
import type { LinkState } from '../../src/transition/transition.js';
import { emptyPartitionState } from '../../src/state/partition-state.js';
import { asMessages, fixture, type FixtureFile } from '../support/fixtures.js';

const settings: BatchSettings = {
  topic: 'openklant.public.klantinteracties_onderwerpobject',
  partition: 2,
  source: 'urn:nld:oin:01823288444:openklant',
  openKlantBaseUrl: 'http://open-klant.local:8000',
  label: () => '',
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

function positionOf(record: { value: string | null }) {
  const parsed = JSON.parse(record.value!);
  const [lastCommitLsn, changeLsn] = JSON.parse(
    ('payload' in parsed ? parsed.payload : parsed).source.sequence,
  );
  return { lastCommitLsn, changeLsn };
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

      const result = processBatch(asMessages(records), emptyPartitionState(), settings);

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
      const rowKey = String(created.row.id);
      expect(result.changelog.map((record) => [record.partition, record.key])).toEqual([
        [2, rowKey],
        [2, rowKey],
        [2, rowKey],
        [2, '__stream_position__'],
      ]);
      expect(result.changelog.map((record) => record.value === null)).toEqual([
        false,
        false,
        true,
        false,
      ]);
      expect(result.position).toEqual(positionOf(fixture(file, 'delete')));
    });

    it('gives the same event ids on a replay', () => {
      const messages = asMessages(lifecycle.map((name) => fixture(file, name)));
      const ids = (result: ReturnType<typeof processBatch>) =>
        result.events.map((message) => JSON.parse(message.value).id as string);

      const first = ids(processBatch(messages, emptyPartitionState(), settings));
      const replay = ids(processBatch(messages, emptyPartitionState(), settings));

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
        emptyPartitionState(),
        settings,
      );
      const state = {
        rows: new Map([[String(snapshot.row.id), seeded.updates.get(String(snapshot.row.id))!]]),
        position: null,
      };
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
      const state = { rows: new Map([[String(created.row.id), stored]]), position: null };

      const result = processBatch(asMessages([fixture(file, 'delete')]), state, settings);

      expect(published(result).map((event) => event.value.data)).toEqual([stored.data]);
    });
  },
);

describe('processBatch with re-sent changes', () => {
  const file: FixtureFile = 'with-schemas.json';
  const lifecycle = ['create linked', 'update register', 'update zaak', 'update objecttype'];

  it('skips changes at or before the stored position', () => {
    const records = lifecycle.map((name) => fixture(file, name));
    const first = processBatch(asMessages(records), emptyPartitionState(), settings);
    const state = { rows: new Map(), position: first.position };
    for (const [key, value] of first.updates) {
      if (value !== null) {
        state.rows.set(key, value);
      }
    }

    const again = processBatch(asMessages(records.slice(1)), state, settings);

    expect(again.events).toEqual([]);
    expect(again.resent).toBe(3);
    expect(again.changelog).toEqual([]);
    expect(again.position).toBe(first.position);
  });

  it('processes the changes after a re-sent prefix', () => {
    const records = lifecycle.map((name) => fixture(file, name));
    const prefix = processBatch(asMessages(records.slice(0, 2)), emptyPartitionState(), settings);
    const state = { rows: new Map(), position: prefix.position };
    for (const [key, value] of prefix.updates) {
      if (value !== null) {
        state.rows.set(key, value);
      }
    }

    const replay = processBatch(asMessages(records), state, settings);
    const whole = processBatch(asMessages(records), emptyPartitionState(), settings);

    // The first change streamed after the snapshot has no last commit LSN, so it is processed
    // again; the state already links the row to that zaak, so it emits nothing.
    expect(replay.resent).toBe(1);
    expect(replay.events).toEqual(whole.events.slice(1));
    expect(replay.position).toEqual(whole.position);
  });

  it('applies a fed-back dead letter before the stored position', () => {
    const update = fixture(file, 'update zaak');
    const stored = { lastCommitLsn: '999999999999', changeLsn: '999999999999' };
    const [message] = asMessages([update]);
    message!.headers = { 'deadletter.replayed-from': 'group-dead-letter:0:7' };

    const result = processBatch([message!], { rows: new Map(), position: stored }, settings);
    const zaak = JSON.parse(update.value!).payload.after.onderwerpobjectidentificator_object_id;

    expect(result.resent).toBe(0);
    expect(result.events.map((event) => [event.key, JSON.parse(event.value).type])).toEqual([
      [zaak, 'nl.overheid.zaken.zaak-gekoppeld'],
    ]);
    expect(result.position).toBe(stored);
  });

  it('never skips a snapshot read', () => {
    const snapshot = fixture(file, 'snapshot read of a linked row');
    const state = {
      rows: new Map(),
      position: { lastCommitLsn: '999999999999', changeLsn: '999999999999' },
    };

    const result = processBatch(asMessages([snapshot]), state, settings);

    expect(result.resent).toBe(0);
    expect(result.updates.size).toBe(1);
  });
});

describe('processBatch with bad records', () => {
  it('sends a bad record to the dead-letter topic and processes the rest', () => {
    const created = fixture('without-schemas.json', 'create linked');
    const moved = fixture('without-schemas.json', 'update zaak');
    const messages = asMessages([created, { key: created.key, value: '{"op":' }, moved]);
    messages[1]!.headers = { traceparent: '00-abc-def-01' };

    const result = processBatch(messages, emptyPartitionState(), settings);

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

  it('takes dead letters from given decode outcomes', () => {
    const created = fixture('without-schemas.json', 'create linked');
    const moved = fixture('without-schemas.json', 'update zaak');
    const messages = asMessages([created, moved]);
    const invalid = new DeadLetterError('INVALID_AVRO', 'Record value does not decode.');
    const decoded = [decodeJsonMessages(messages)[0]!, invalid];

    const result = processBatch(messages, emptyPartitionState(), settings, decoded);

    expect(result.events).toHaveLength(1);
    expect(result.deadLetters).toHaveLength(1);
    expect(result.deadLetters[0]!.offset).toBe('101');
    expect(result.deadLetters[0]!.code).toBe('INVALID_AVRO');
    expect(result.deadLetters[0]!.message.headers['deadletter.error.code']).toBe('INVALID_AVRO');
    expect(result.nextOffset).toBe('102');
  });

  it('rejects outcomes that do not match the messages', () => {
    const messages = asMessages([fixture('without-schemas.json', 'create linked')]);
    expect(() => processBatch(messages, emptyPartitionState(), settings, [])).toThrow(
      'processBatch got 0 decode outcomes for 1 messages.',
    );
  });
});
