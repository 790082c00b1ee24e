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
import { decodeJsonMessages, type DecodeOutcome } from './decode.js';

export interface BatchSettings {
  topic: string;
  partition: number;
  source: string;
  openKlantBaseUrl: string;
  /** Returns the label of a new link as of the change, or null when the klantcontact is unknown. */
  label: (link: Link, position: SourcePosition) => string | null;
  /** Emit gekoppeld for snapshot reads of linked rows without state, instead of only seeding. */
  snapshotEmitsEvents?: boolean;
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

/**
 * Runs a batch of input records through decode, transition and event building. Does no I/O.
 * `decoded` contains one outcome per message, in the same order; without it the records are decoded
 * as Kafka Connect JSON.
 */
export function processBatch(
  messages: InputMessage[],
  state: Readonly<PartitionState>,
  settings: BatchSettings,
  decoded: readonly DecodeOutcome[] = decodeJsonMessages(messages),
): BatchResult {
  if (decoded.length !== messages.length) {
    throw new Error(
      `processBatch got ${decoded.length} decode outcomes for ${messages.length} messages.`,
    );
  }
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

  for (const [index, message] of messages.entries()) {
    result.nextOffset = (BigInt(message.offset) + 1n).toString();
    const outcome = decoded[index]!;
    if (outcome instanceof DeadLetterError) {
      result.deadLetters.push({
        offset: message.offset,
        code: outcome.code,
        reason: outcome.message,
        message: deadLetterMessage(message, outcome, settings),
      });
      continue;
    }

    const record = outcome;
    if (record.kind === 'tombstone') {
      result.tombstones += 1;
      continue;
    }

    // A dead letter that an operator fed back after a fix lies before the stored position but was
    // never processed. It is applied to the current state and leaves the position as it is.
    const replayed = message.headers?.[replayedFromHeader] !== undefined;
    const position = replayed ? null : streamPositionOf(record.position);
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

    const previous = current(record.key);
    const describe = (link: Link) => {
      const label = settings.label(link, record.position);
      if (label === null) {
        result.missingLabels.push({ offset: message.offset, klantcontactId: link.klantcontactId });
      }
      return linkData(link, settings.openKlantBaseUrl, label ?? '');
    };
    const { next, events, problem } = transition(
      previous,
      record,
      describe,
      settings.snapshotEmitsEvents ?? false,
    );
    if (problem !== null) {
      result.rejectedLinks.push({ offset: message.offset, rowKey: record.key, reason: problem });
    }
    if (next !== previous) {
      result.updates.set(record.key, next);
      result.changelog.push(encodeChangelogRecord(settings.partition, record.key, next));
    }
    for (const event of events) {
      const origin = { rowKey: record.key, position: record.position };
      result.events.push(toStructuredMessage(buildCloudEvent(event, origin, settings.source)));
      result.eventCounts[event.type] += 1;
    }
  }
  if (result.position !== state.position && result.position !== null) {
    result.changelog.push(encodePositionRecord(settings.partition, result.position));
  }
  return result;
}
