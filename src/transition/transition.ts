import type { RowChange } from '../decode/change.js';
import { linkOf, type Link, type NoLinkReason } from '../link/rule.js';

/** The `data` of a zaak-gekoppeld or zaak-ontkoppeld event. */
export interface LinkData {
  zaak: string;
  linkTo: string;
  label: string;
  linkObjectType: 'Onderwerpobject';
}

/**
 * What the processor stores per row key: the zaak the row links to and the data of the
 * gekoppeld event that opened the link, which the ontkoppeld event repeats.
 */
export interface LinkState {
  zaak: string;
  data: LinkData;
}

export type LinkEventType = 'zaak-gekoppeld' | 'zaak-ontkoppeld';

export interface LinkEvent {
  type: LinkEventType;
  zaak: string;
  data: LinkData;
}

export interface TransitionResult {
  /** The row's state after the change; `null` when the row links to nothing. */
  next: LinkState | null;
  events: LinkEvent[];
  /** Set when the row names a zaak in a form that the link rule does not accept. */
  problem: NoLinkReason | null;
}

/** Builds the event data of a new link; the caller knows the base URL and the label. */
export type DescribeLink = (link: Link) => LinkData;

/**
 * Applies one row change to the row's previous state. A change that keeps the zaak emits nothing
 * and keeps the stored data; a change of zaak emits ontkoppeld for the old zaak before gekoppeld
 * for the new one. A snapshot read (`op: r`) of a row without state seeds the state without an
 * event, because the link existed before capture started, unless `snapshotEmitsEvents` is set.
 */
export function transition(
  previous: LinkState | null,
  change: RowChange,
  describe: DescribeLink,
  snapshotEmitsEvents = false,
): TransitionResult {
  const { link, problem } =
    change.op === 'd' ? { link: null, problem: null } : linkOf(change.after);
  if (previous !== null && link !== null && previous.zaak === link.zaak) {
    return { next: previous, events: [], problem };
  }

  const events: LinkEvent[] = [];
  if (previous !== null) {
    events.push({ type: 'zaak-ontkoppeld', zaak: previous.zaak, data: previous.data });
  }

  let next: LinkState | null = null;
  if (link !== null) {
    next = { zaak: link.zaak, data: describe(link) };
    const seedsState = change.op === 'r' && previous === null && !snapshotEmitsEvents;
    if (!seedsState) {
      events.push({ type: 'zaak-gekoppeld', zaak: next.zaak, data: next.data });
    }
  }
  return { next, events, problem };
}
