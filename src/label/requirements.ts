import { DeadLetterError } from '../errors.js';
import { linkOf } from '../link/rule.js';
import type { DecodeOutcome } from '../processor/decode.js';
import { streamPositionOf } from '../state/stream-position.js';
import type { LabelRequirement } from './klantcontacten.js';

/**
 * Lists the klantcontacten whose labels a batch may need: those of rows that link to a zaak after
 * their change. Records that do not decode are left to the batch, which sends them to the
 * dead-letter topic.
 */
export function labelRequirements(outcomes: readonly DecodeOutcome[]): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (const decoded of outcomes) {
    if (decoded instanceof DeadLetterError) {
      continue;
    }
    if (decoded.kind !== 'change' || decoded.op === 'd') {
      continue;
    }
    const { link } = linkOf(decoded.after);
    if (link !== null) {
      requirements.push({
        klantcontactId: link.klantcontactId,
        position: streamPositionOf(decoded.position),
      });
    }
  }
  return requirements;
}
