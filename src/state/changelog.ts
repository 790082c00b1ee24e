import { z } from 'zod';
import { StateError } from '../errors.js';
import type { LinkState } from '../transition/transition.js';

/**
 * The changelog topic holds one record per row key: the JSON LinkState while the row links to a
 * zaak, and a tombstone (null value) once it links to nothing, so compaction keeps only live links.
 * Its partition is the partition of the input record, which makes it co-partitioned with the
 * input topic.
 */
export const changelogFormatVersion = 1;

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

/** Decodes a changelog value; `null` (a tombstone) means the row links to nothing. */
export function decodeChangelogValue(
  value: Buffer | null,
  where: { topic: string; partition: number; offset: string },
): LinkState | null {
  if (value === null) {
    return null;
  }

  let document: unknown;
  try {
    document = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw corrupted(where, 'is not valid JSON', error);
  }
  const parsed = storedState.safeParse(document);
  if (!parsed.success) {
    throw corrupted(where, `does not match format version ${changelogFormatVersion}`, parsed.error);
  }
  return { zaak: parsed.data.zaak, data: parsed.data.data };
}

function corrupted(
  where: { topic: string; partition: number; offset: string },
  problem: string,
  cause: unknown,
): StateError {
  return new StateError(
    `State record at ${where.topic}[${where.partition}]@${where.offset} ${problem}. Another ` +
      'application may write to this changelog topic; give each processor group its own ' +
      'STATE_CHANGELOG_TOPIC.',
    { cause },
  );
}
