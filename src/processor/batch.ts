import { decodeDebeziumJson } from '../decode/debezium-json.js';
import { DeadLetterError } from '../errors.js';
import {
  buildCloudEvent,
  linkData,
  toStructuredMessage,
  type OutputMessage,
} from '../event/cloudevent.js';
import type { SourcePosition } from '../decode/change.js';
import type { Link, NoLinkReason } from '../link/rule.js';
import {
  encodeChangelogRecord,
  encodePositionRecord,
  type ChangelogRecord,
} from '../state/changelog.js';
import type { PartitionState } from '../state/partition-state.js';
import {
  compareStreamPositions,
  isResent,
  streamPositionOf,
  type StreamPosition,
} from '../state/stream-position.js';
import { transition, type LinkEventType, type LinkState } from '../transition/transition.js';
import { replayedFromHeader } from '../dead-letter/letters.js';
import { deadLetterMessage, type DeadLetterMessage, type InputMessage } from './dead-letter.js';

export interface BatchSettings {
  topic: string;
  partition: number;
  source: string;
  openKlantBaseUrl: string;
  /** Returns the label of a new link as of the change, or null when the klantcontact is unknown. */
  label: (link: Link, position: SourcePosition) => string | null;
}

/** A record whose row names a zaak in a form the link rule does not accept. */
export interface RejectedLink {
  offset: string;
  rowKey: string;
  reason: NoLinkReason;
}

/** A dead letter with the facts the processor logs about it. */
export interface RejectedRecord {
  offset: string;
  code: DeadLetterError['code'];
  reason: string;
  message: DeadLetterMessage;
}

/**
 * Everything one batch produces. The events, changelog records, dead letters and the input offset
 * are committed together; only then do `updates` and `position` replace the partition's state.
 */
export interface BatchResult {
  events: OutputMessage[];
  eventCounts: Record<LinkEventType, number>;
  changelog: ChangelogRecord[];
  deadLetters: RejectedRecord[];
  updates: Map<string, LinkState | null>;
  rejectedLinks: RejectedLink[];
  /** New links whose klantcontact was unknown, published with an empty label. */
  missingLabels: { offset: string; klantcontactId: string }[];
  tombstones: number;
  /** Changes skipped because their stream position shows they were processed before. */
  resent: number;
  /** Stream position after the batch; unchanged when the batch held no newer change. */
  position: StreamPosition | null;
  /** The offset to commit: one past the batch's last record. */
  nextOffset: string;
}

/** Runs a batch of input records through decode, transition and event building. Does no I/O. */
export function processBatch(
  messages: InputMessage[],
  state: Readonly<PartitionState>,
  settings: BatchSettings,
): BatchResult {
  const result: BatchResult = {
    events: [],
    eventCounts: { 'zaak-gekoppeld': 0, 'zaak-ontkoppeld': 0 },
    changelog: [],
    deadLetters: [],
    updates: new Map(),
    rejectedLinks: [],
    missingLabels: [],
    tombstones: 0,
    resent: 0,
    position: state.position,
    nextOffset: '',
  };
  const current = (key: string) =>
    result.updates.has(key) ? (result.updates.get(key) ?? null) : (state.rows.get(key) ?? null);

  for (const message of messages) {
    result.nextOffset = (BigInt(message.offset) + 1n).toString();
    let decoded;
    try {
      decoded = decodeDebeziumJson(message.key, message.value);
    } catch (error) {
      if (!(error instanceof DeadLetterError)) {
        throw error;
      }
      result.deadLetters.push({
        offset: message.offset,
        code: error.code,
        reason: error.message,
        message: deadLetterMessage(message, error, settings),
      });
      continue;
    }

    if (decoded.kind === 'tombstone') {
      result.tombstones += 1;
      continue;
    }

    // A dead letter that an operator fed back after a fix lies before the stored position but was
    // never processed. It is applied to the current state and leaves the position as it is.
    const replayed = message.headers?.[replayedFromHeader] !== undefined;
    const position = replayed ? null : streamPositionOf(decoded.position);
    if (isResent(position, result.position)) {
      result.resent += 1;
      continue;
    }
    if (
      position !== null &&
      (result.position === null || compareStreamPositions(position, result.position) > 0)
    ) {
      result.position = position;
    }

    const previous = current(decoded.key);
    const describe = (link: Link) => {
      const label = settings.label(link, decoded.position);
      if (label === null) {
        result.missingLabels.push({ offset: message.offset, klantcontactId: link.klantcontactId });
      }
      return linkData(link, settings.openKlantBaseUrl, label ?? '');
    };
    const { next, events, problem } = transition(previous, decoded, describe);
    if (problem !== null) {
      result.rejectedLinks.push({ offset: message.offset, rowKey: decoded.key, reason: problem });
    }
    if (next !== previous) {
      result.updates.set(decoded.key, next);
      result.changelog.push(encodeChangelogRecord(settings.partition, decoded.key, next));
    }
    for (const event of events) {
      const origin = { rowKey: decoded.key, position: decoded.position };
      result.events.push(toStructuredMessage(buildCloudEvent(event, origin, settings.source)));
      result.eventCounts[event.type] += 1;
    }
  }
  if (result.position !== state.position && result.position !== null) {
    result.changelog.push(encodePositionRecord(settings.partition, result.position));
  }
  return result;
}
