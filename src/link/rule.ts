import type { OnderwerpobjectRow } from '../decode/change.js';

/** A row's link to a zaak, as Open Klant's link rule derives it. */
export interface Link {
  /** The zaak UUID in its canonical form: lower case, no surrounding whitespace. */
  zaak: string;
  onderwerpobjectUuid: string;
  klantcontactId: string;
}

/** Why a row that names a zaak does not link to it. Reported, never turned into events. */
export type NoLinkReason = 'OBJECT_ID_NOT_A_UUID' | 'ROW_UUID_MISSING';

export type LinkResult =
  { link: Link; problem: null } | { link: null; problem: NoLinkReason | null };

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Derives the zaak a row links to. A row links when its objecttype is `zaak`, its soort object
 * id is `uuid` and it has a klantcontact. Open Klant compares the object id as an exact string;
 * this rule reads it as a UUID instead: surrounding whitespace is dropped and letter case is
 * ignored (RFC 9562 UUIDs are case-insensitive), and an object id that is then not a UUID links
 * to nothing, because Open Zaak can only resolve `urn:uuid:` references to a zaak.
 */
export function linkOf(row: OnderwerpobjectRow | null): LinkResult {
  if (row === null || !refersToZaak(row)) {
    return { link: null, problem: null };
  }

  const zaak = (row.objectId ?? '').trim().toLowerCase();
  if (!uuidPattern.test(zaak)) {
    return { link: null, problem: 'OBJECT_ID_NOT_A_UUID' };
  }
  if (row.uuid === null || row.uuid === '') {
    return { link: null, problem: 'ROW_UUID_MISSING' };
  }

  return {
    link: { zaak, onderwerpobjectUuid: row.uuid, klantcontactId: row.klantcontactId },
    problem: null,
  };
}

/**
 * Tells whether a row refers to a zaak by UUID: its objecttype is `zaak`, its soort object id is
 * `uuid` and it has a klantcontact. Only for such a row does `linkOf` read the object id and the
 * row uuid.
 */
export function refersToZaak(
  row: OnderwerpobjectRow,
): row is OnderwerpobjectRow & { klantcontactId: string } {
  return (
    row.codeObjecttype === 'zaak' && row.codeSoortObjectId === 'uuid' && row.klantcontactId !== null
  );
}
