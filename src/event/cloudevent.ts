import { CloudEvent, Kafka } from 'cloudevents';
import { v5 as uuidV5 } from 'uuid';
import type { SourcePosition } from '../decode/change.js';
import type { LinkData, LinkEvent } from '../transition/transition.js';
import type { Link } from '../link/rule.js';

export const eventTypePrefix = 'nl.overheid.zaken.';

/**
 * Namespace of the name-based (version 5) UUIDs used as event ids. A fixed namespace makes the
 * same database change give the same id on every replay.
 */
const eventIdNamespace = '5b0f5e0c-7d8e-4d59-9b1e-3f1c4c2f7a61';

/** Content type of the structured mode of the CloudEvents Kafka protocol binding, section 3.2. */
export const structuredContentType = 'application/cloudevents+json; charset=UTF-8';

export interface EventOrigin {
  rowKey: string;
  position: SourcePosition;
}

export type ZaakLinkCloudEvent = CloudEvent<LinkData> & { partitionkey: string };

/** Builds the `data` of the gekoppeld event for a new link. */
export function linkData(link: Link, baseUrl: string, label: string): LinkData {
  return {
    zaak: `urn:uuid:${link.zaak}`,
    linkTo: `${baseUrl}/klantinteracties/api/v1/onderwerpobjecten/${link.onderwerpobjectUuid}`,
    label,
    linkObjectType: 'Onderwerpobject',
  };
}

/**
 * Builds the CloudEvent for one link transition. `time` is the commit time of the database
 * transaction, so a replay gives the same value.
 */
export function buildCloudEvent(
  event: LinkEvent,
  origin: EventOrigin,
  source: string,
): ZaakLinkCloudEvent {
  const type = `${eventTypePrefix}${event.type}`;
  const cloudEvent = new CloudEvent<LinkData>(
    {
      specversion: '1.0',
      id: eventId(type, event.zaak, origin, source),
      type,
      source,
      subject: event.zaak,
      time: new Date(origin.position.tsMs).toISOString(),
      datacontenttype: 'application/json',
      data: event.data,
      partitionkey: event.zaak,
    },
    true,
  );
  return cloudEvent as ZaakLinkCloudEvent;
}

export interface OutputMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp?: string;
}

/**
 * Serialises an event in structured content mode, keyed by the zaak UUID. The SDK writes `time`
 * with milliseconds; the value carries it in whole seconds with `Z`, as Open Klant writes it.
 */
export function toStructuredMessage(event: ZaakLinkCloudEvent): OutputMessage {
  const message = Kafka.structured(event);
  const document = JSON.parse(String(message.body)) as Record<string, unknown>;
  document.time = wholeSeconds(String(event.time));
  return {
    key: event.partitionkey,
    value: JSON.stringify(document),
    headers: { 'content-type': structuredContentType },
    timestamp: message.timestamp,
  };
}

function eventId(type: string, zaak: string, origin: EventOrigin, source: string): string {
  // The commit time distinguishes two changes of a row whose records carry no LSN, as flattened
  // rows without the position fields do.
  const { lsn, sequence, txId, tsMs } = origin.position;
  const name = JSON.stringify([source, type, zaak, origin.rowKey, lsn, sequence, txId, tsMs]);
  return uuidV5(name, eventIdNamespace);
}

function wholeSeconds(isoTime: string): string {
  return isoTime.replace(/\.\d+Z$/, 'Z');
}
