import { InvalidArgumentError } from 'commander';
import { deadLetterCodes } from './letters.js';

/** Start position of a replay in each partition of the dead-letter topic. */
export type ReplayStart =
  | { from: 'committed' }
  | { from: 'beginning' }
  | { from: 'offset'; offset: bigint }
  | { from: 'timestamp'; timestamp: number };

/** The part of the dead-letter topic that one replay reads. */
export interface ReplayRange {
  start: ReplayStart;
  /** The last offset to read, inclusive. Unset reads to the end offset at start. */
  toOffset: bigint | undefined;
  /** The only partition to read. Unset reads all partitions. */
  partition: number | undefined;
}

/** Offsets of one dead-letter partition when the replay starts. */
export interface PartitionOffsets {
  partition: number;
  /** The earliest offset still in the log. */
  low: bigint;
  /** The last stable offset. Every record before it is committed or aborted. */
  high: bigint;
  /** The replay group's committed offset, or null when it has none. */
  committed: bigint | null;
  /** For a timestamp start, the first offset whose record timestamp is at or after it. */
  atTimestamp?: bigint;
}

/** The offsets `[start, end)` that a replay reads from one partition. */
export interface PartitionPlan {
  partition: number;
  start: bigint;
  end: bigint;
  /** The replay group's committed offset. A replay never commits a smaller one. */
  committed: bigint | null;
  /** Reason the plan differs from the options, logged as a warning. */
  warning?: string;
}

/** Computes the offsets that a replay reads from one partition. */
export function planPartition(range: ReplayRange, offsets: PartitionOffsets): PartitionPlan {
  const { partition, low, high, committed } = offsets;
  const end = range.toOffset === undefined ? high : minOf(high, range.toOffset + 1n);
  let start: bigint;
  let warning: string | undefined;

  switch (range.start.from) {
    case 'beginning':
      start = low;
      break;
    case 'offset':
      start = range.start.offset;
      if (start < low) {
        warning = `offset ${start} was deleted by retention; reading from ${low}, the earliest offset`;
        start = low;
      }
      break;
    case 'timestamp':
      start = offsets.atTimestamp ?? high;
      break;
    case 'committed':
      if (committed === null) {
        start = low;
      } else if (committed < low) {
        warning =
          `offsets ${committed} to ${low - 1n} were deleted by retention before a replay read ` +
          'them; reading from the earliest offset';
        start = low;
      } else if (committed > high) {
        warning =
          `the replay group's offset ${committed} is past the end offset ${high}, so the topic ` +
          'was probably re-created; run with --from-beginning to read it';
        start = high;
      } else {
        start = committed;
      }
      break;
  }
  return { partition, start: minOf(start, end), end, committed, ...(warning && { warning }) };
}

/** Parses an offset option: a whole number, at most 2^63 - 1. */
export function parseOffset(value: string): bigint {
  if (!/^\d{1,19}$/.test(value) || BigInt(value) > 2n ** 63n - 1n) {
    throw new InvalidArgumentError('Expected an offset: a whole number from 0.');
  }
  return BigInt(value);
}

/** Parses a partition option: a whole number from 0 to 2^31 - 1. */
export function parsePartition(value: string): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) > 2 ** 31 - 1) {
    throw new InvalidArgumentError('Expected a partition number: a whole number from 0.');
  }
  return Number(value);
}

const isoTimePattern = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses `--since`: milliseconds since the Unix epoch, or an ISO 8601 date (midnight UTC) or date
 * and time with `Z` or an offset. A time without a zone is rejected, because it is ambiguous.
 */
export function parseSince(value: string): number {
  const timestamp = /^\d{1,15}$/.test(value)
    ? Number(value)
    : isoTimePattern.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (Number.isNaN(timestamp)) {
    throw new InvalidArgumentError(
      'Expected milliseconds since the Unix epoch or an ISO 8601 time with a zone, ' +
        'e.g. 2026-03-01T09:00:00Z.',
    );
  }
  return timestamp;
}

/** Adds the codes of one `--error-code` option, which may list several separated by commas. */
export function collectCodes(value: string, previous: string[]): string[] {
  const codes = value
    .split(',')
    .map((code) => code.trim())
    .filter((code) => code !== '');
  const unknown = codes.filter((code) => !(deadLetterCodes as string[]).includes(code));
  if (codes.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`Expected one or more of ${deadLetterCodes.join(', ')}.`);
  }
  return [...previous, ...codes];
}

function minOf(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
