import { z } from 'zod';
import { StateError } from '../errors.js';
import type { LinkState } from '../transition/transition.js';
import type { StreamPosition } from './stream-position.js';

/**
 * The changelog topic contains one record per row key: the JSON LinkState while the row links to a
 * zaak, and a tombstone (null value) once it links to nothing, so compaction keeps only live links.
 * Each partition also contains the stream position of the last change processed, under a key that
 * no row key (a decimal integer) can take. A changelog record's partition is the partition of the
 * input record, which makes the changelog co-partitioned with the input topic.
 */
export const changelogFormatVersion = 1;

export const positionKey = '__stream_position__';

const storedPosition = z.object({
  v: z.literal(changelogFormatVersion),
  lastCommitLsn: z.string().regex(/^\d+$/).nullable(),
  changeLsn: z.string().regex(/^\d+$/),
});

const storedState = z.object({
  v: z.literal(changelogFormatVersion),
  zaak: z.string(),
  data: z.object({
    zaak: z.string(),
    linkTo: z.string(),
    label: z.string(),
    linkObjectType: z.literal('Onderwerpobject'),
  }),
});

export interface ChangelogRecord {
  partition: number;
  key: string;
  value: string | null;
}

export function encodeChangelogRecord(
  partition: number,
  key: string,
  state: LinkState | null,
): ChangelogRecord {
  const value = state === null ? null : JSON.stringify({ v: changelogFormatVersion, ...state });
  return { partition, key, value };
}

export function encodePositionRecord(partition: number, position: StreamPosition): ChangelogRecord {
  return {
    partition,
    key: positionKey,
    value: JSON.stringify({ v: changelogFormatVersion, ...position }),
  };
}

type Where = { topic: string; partition: number; offset: string };

/** Decodes a stream position record. */
export function decodePositionValue(value: Buffer | null, where: Where): StreamPosition | null {
  if (value === null) {
    return null;
  }
  const parsed = storedPosition.safeParse(parseStored(value, where));
  if (!parsed.success) {
    throw corrupted(where, `does not match format version ${changelogFormatVersion}`, parsed.error);
  }
  return { lastCommitLsn: parsed.data.lastCommitLsn, changeLsn: parsed.data.changeLsn };
}

/** Decodes a row's changelog value; `null` (a tombstone) means the row links to nothing. */
export function decodeChangelogValue(value: Buffer | null, where: Where): LinkState | null {
  if (value === null) {
    return null;
  }
  const parsed = storedState.safeParse(parseStored(value, where));
  if (!parsed.success) {
    throw corrupted(where, `does not match format version ${changelogFormatVersion}`, parsed.error);
  }
  return { zaak: parsed.data.zaak, data: parsed.data.data };
}

function parseStored(value: Buffer, where: Where): unknown {
  try {
    return JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw corrupted(where, 'is not valid JSON', error);
  }
}

function corrupted(where: Where, problem: string, cause: unknown): StateError {
  return new StateError(
    `State record at ${where.topic}[${where.partition}]@${where.offset} ${problem}. Another ` +
      'application may write to this changelog topic; give each processor group its own ' +
      'STATE_CHANGELOG_TOPIC.',
    { cause },
  );
}
