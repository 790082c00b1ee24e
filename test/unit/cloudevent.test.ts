import { describe, expect, it } from 'vitest';
import { buildCloudEvent, linkData, toStructuredMessage } from '../../src/event/cloudevent.js';
import type { SourcePosition } from '../../src/decode/change.js';

const source = 'urn:nld:oin:01823288444:openklant';
const zaak = 'a7b3c8d9-e4f5-6a7b-8c9d-e0f1a2b3c4d5';
const data = linkData(
  { zaak, onderwerpobjectUuid: '5fee9673-216c-41e7-91d2-69a8d1526b9f', klantcontactId: '3' },
  'http://open-klant.local:8000',
  'Mijn Klantcontact Onderwerp',
);
const position: SourcePosition = {
  lsn: '26843472',
  sequence: ['26843104', '26843472'],
  txId: '771',
  tsMs: 1760054400123,
  snapshot: false,
};

describe('buildCloudEvent', () => {
  it('builds the gekoppeld event in structured mode', () => {
    const event = buildCloudEvent(
      { type: 'zaak-gekoppeld', zaak, data },
      { rowKey: '7', position },
      source,
    );
    const message = toStructuredMessage(event);

    expect(message.key).toBe(zaak);
    expect(message.headers).toEqual({
      'content-type': 'application/cloudevents+json; charset=UTF-8',
    });
    expect(JSON.parse(message.value)).toEqual({
      specversion: '1.0',
      type: 'nl.overheid.zaken.zaak-gekoppeld',
      source,
      subject: zaak,
      id: event.id,
      time: '2025-10-10T00:00:00Z',
      datacontenttype: 'application/json',
      partitionkey: zaak,
      data: {
        zaak: `urn:uuid:${zaak}`,
        linkTo:
          'http://open-klant.local:8000/klantinteracties/api/v1/onderwerpobjecten/5fee9673-216c-41e7-91d2-69a8d1526b9f',
        label: 'Mijn Klantcontact Onderwerp',
        linkObjectType: 'Onderwerpobject',
      },
    });
    expect(event.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('gives the same id for the same change', () => {
    const first = buildCloudEvent(
      { type: 'zaak-gekoppeld', zaak, data },
      { rowKey: '7', position },
      source,
    );
    const again = buildCloudEvent(
      { type: 'zaak-gekoppeld', zaak, data },
      { rowKey: '7', position },
      source,
    );
    expect(again.id).toBe(first.id);
  });

  it.each([
    ['another type', { type: 'zaak-ontkoppeld' as const }, {}, source],
    ['another row', {}, { rowKey: '8' }, source],
    [
      'another change lsn',
      {},
      { position: { ...position, sequence: ['26843104', '26843999'] as [string, string] } },
      source,
    ],
    ['another source', {}, {}, 'urn:nld:oin:00000000000:openklant'],
  ])('gives another id for %s', (_name, eventChange, originChange, eventSource) => {
    const base = buildCloudEvent(
      { type: 'zaak-gekoppeld', zaak, data },
      { rowKey: '7', position },
      source,
    );
    const other = buildCloudEvent(
      { type: 'zaak-gekoppeld', zaak, data, ...eventChange },
      { rowKey: '7', position, ...originChange },
      eventSource,
    );
    expect(other.id).not.toBe(base.id);
  });
});
