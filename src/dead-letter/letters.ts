import type { IHeaders } from 'kafkajs';
import type { DeadLetterCode } from '../errors.js';
import { deadLetterHeaders } from '../processor/dead-letter.js';

/** Prefix of the headers that the processor adds to a dead letter. */
export const deadLetterHeaderPrefix = 'deadletter.';

/** Header of a re-fed record that names the dead letter it came from: `{topic}:{partition}:{offset}`. */
export const replayedFromHeader = 'deadletter.replayed-from';

// A Record over DeadLetterCode fails to compile when errors.ts gains a code that is missing here.
const knownCodes: Record<DeadLetterCode, true> = {
  INVALID_JSON: true,
  INVALID_ENVELOPE: true,
  INVALID_KEY: true,
  INVALID_ROW: true,
  UNSUPPORTED_OPERATION: true,
  UNAVAILABLE_VALUE: true,
  NOT_A_CHANGE_EVENT: true,
  INVALID_AVRO: true,
  UNKNOWN_SCHEMA: true,
};

/** The error codes that the processor writes to `deadletter.error.code`. */
export const deadLetterCodes = Object.keys(knownCodes) as DeadLetterCode[];

/** Position of a dead letter in the dead-letter topic. */
export interface LetterPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A dead letter as the consumer hands it over. */
export interface ConsumedLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  offset: string;
}

/** A dead letter that can be re-sent, with the record to send. */
export interface ReplayableLetter {
  kind: 'replay';
  position: LetterPosition;
  code: string;
  reason: string;
  target: { topic: string; partition: number };
  record: { key: Buffer | null; value: Buffer | null; headers: IHeaders };
}

/** A dead letter whose source headers are missing or invalid, so no replay can re-send it. */
export interface InvalidLetter {
  kind: 'invalid';
  position: LetterPosition;
  code: string;
  problem: string;
}

const topicNamePattern = /^[a-zA-Z0-9._-]{1,249}$/;
const maxPartition = 2 ** 31 - 1;

/**
 * Reads a dead letter's error and source headers and builds the record to send back: the
 * original key, value and headers, without the `deadletter.*` headers and with
 * `deadletter.replayed-from`. Returns an InvalidLetter when the source headers are missing or
 * invalid, or name one of `outputTopics`, which the processor writes and never reads.
 */
export function readLetter(
  letter: ConsumedLetter,
  position: Omit<LetterPosition, 'offset'>,
  outputTopics: ReadonlySet<string> = new Set(),
): ReplayableLetter | InvalidLetter {
  const headers = letter.headers ?? {};
  const where = { ...position, offset: letter.offset };
  const code = headerText(headers, deadLetterHeaders.errorCode) ?? '';
  const topic = headerText(headers, deadLetterHeaders.topic);
  const partition = headerText(headers, deadLetterHeaders.partition);

  if (topic === undefined || !topicNamePattern.test(topic)) {
    return {
      kind: 'invalid',
      position: where,
      code,
      problem: `header ${deadLetterHeaders.topic} is ${describe(topic)}; expected a topic name`,
    };
  }
  if (outputTopics.has(topic)) {
    return {
      kind: 'invalid',
      position: where,
      code,
      problem:
        `header ${deadLetterHeaders.topic} is ${describe(topic)}, a topic the processor writes; ` +
        'expected its input topic',
    };
  }
  if (
    partition === undefined ||
    !/^\d{1,10}$/.test(partition) ||
    Number(partition) > maxPartition
  ) {
    return {
      kind: 'invalid',
      position: where,
      code,
      problem:
        `header ${deadLetterHeaders.partition} is ${describe(partition)}; ` +
        'expected a partition number',
    };
  }

  return {
    kind: 'replay',
    position: where,
    code,
    reason: headerText(headers, deadLetterHeaders.errorMessage) ?? '',
    target: { topic, partition: Number(partition) },
    record: {
      key: letter.key,
      value: letter.value,
      headers: replayHeaders(headers, `${where.topic}:${where.partition}:${where.offset}`),
    },
  };
}

/**
 * Returns the record headers to send back: every header except the `deadletter.*` ones, plus
 * `deadletter.replayed-from`. A header that occurs more than once keeps all its values.
 */
export function replayHeaders(headers: IHeaders, replayedFrom: string): IHeaders {
  const result: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !name.startsWith(deadLetterHeaderPrefix)) {
      result[name] = value;
    }
  }
  result[replayedFromHeader] = replayedFrom;
  return result;
}

/** Tells whether a letter passes the `--error-code` filter. An empty filter passes every letter. */
export function matchesCodes(code: string, codes: ReadonlySet<string>): boolean {
  return codes.size === 0 || codes.has(code);
}

/** Returns a header as UTF-8 text, or its last value when it occurs more than once. */
function headerText(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  if (last === undefined) {
    return undefined;
  }
  return typeof last === 'string' ? last : last.toString('utf8');
}

function describe(value: string | undefined): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}
