import { expect } from 'vitest';
import type { ProcessorSettings } from './processor-process.js';
import type { ConsumedRecord } from './kafka.js';

const uuidV5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const wholeSecondsUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export type EventType = 'zaak-gekoppeld' | 'zaak-ontkoppeld';

/** An output record as the tests compare it: key, headers and the parsed CloudEvent. */
export interface PublishedEvent {
  key: string | null;
  headers: Record<string, string>;
  event: Record<string, unknown>;
}

/**
 * The record the processor must publish for a link change of one onderwerpobject row, derived
 * from the SQL the test ran. `id` and `time` depend on the database's LSN and commit clock, so
 * they are matched by form.
 */
export function expectedEvent(
  settings: ProcessorSettings,
  type: EventType,
  zaak: string,
  rowUuid: string,
  label: string,
): PublishedEvent {
  return {
    key: zaak,
    headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' },
    event: {
      specversion: '1.0',
      type: `nl.overheid.zaken.${type}`,
      source: settings.source,
      subject: zaak,
      id: expect.stringMatching(uuidV5),
      time: expect.stringMatching(wholeSecondsUtc),
      datacontenttype: 'application/json',
      partitionkey: zaak,
      data: {
        zaak: `urn:uuid:${zaak}`,
        linkTo: `${settings.openKlantBaseUrl}/klantinteracties/api/v1/onderwerpobjecten/${rowUuid}`,
        label,
        linkObjectType: 'Onderwerpobject',
      },
    },
  };
}

/** The published events about the given onderwerpobject rows, in the order of their records. */
export function eventsAbout(records: ConsumedRecord[], rowUuids: string[]): PublishedEvent[] {
  return records
    .map((record) => ({
      key: record.key,
      headers: record.headers,
      event: JSON.parse(record.value ?? 'null') as Record<string, unknown>,
    }))
    .filter(({ event }) => {
      const linkTo = (event.data as { linkTo?: string } | undefined)?.linkTo ?? '';
      return rowUuids.some((uuid) => linkTo.endsWith(`/${uuid}`));
    });
}

/**
 * Groups events by record key. Events about different zaken sit in different output partitions,
 * so only the order within one zaak is defined for a reader.
 */
export function eventsByZaak(events: PublishedEvent[]): Map<string | null, PublishedEvent[]> {
  const groups = new Map<string | null, PublishedEvent[]>();
  for (const event of events) {
    groups.set(event.key, [...(groups.get(event.key) ?? []), event]);
  }
  return groups;
}

/**
 * The events of a row that links to `oldZaak`, moves to `newZaak` and is deleted, grouped by zaak
 * as `eventsByZaak` returns them.
 */
export function linkMoveUnlinkEvents(
  settings: ProcessorSettings,
  row: { uuid: string; oldZaak: string; newZaak: string; label: string },
): Map<string | null, PublishedEvent[]> {
  const event = (type: EventType, zaak: string) =>
    expectedEvent(settings, type, zaak, row.uuid, row.label);
  return new Map([
    [row.oldZaak, [event('zaak-gekoppeld', row.oldZaak), event('zaak-ontkoppeld', row.oldZaak)]],
    [row.newZaak, [event('zaak-gekoppeld', row.newZaak), event('zaak-ontkoppeld', row.newZaak)]],
  ]);
}
