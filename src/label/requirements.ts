import { decodeDebeziumJson } from '../decode/debezium-json.js';
import { linkOf } from '../link/rule.js';
import type { InputMessage } from '../processor/dead-letter.js';
import { streamPositionOf } from '../state/stream-position.js';
import type { LabelRequirement } from './klantcontacten.js';

/**
 * Lists the klantcontacten whose labels a batch may need: those of rows that link to a zaak after
 * their change. Records that do not decode are left to the batch, which sends them to the
 * dead-letter topic.
 */
export function labelRequirements(messages: InputMessage[]): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (const message of messages) {
    let decoded;
    try {
      decoded = decodeDebeziumJson(message.key, message.value);
    } catch {
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
