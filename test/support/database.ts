import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { waitFor } from './kafka.js';
import type { StackSettings } from './stack-settings.js';

export interface OnderwerpobjectColumns {
  klantcontactId: number | null;
  objectId: string;
  objecttype: string;
  register: string;
  soortObjectId: string;
}

export interface InsertedRow {
  id: number;
  uuid: string;
}

export interface InsertedKlantcontact extends InsertedRow {
  /** The label Open Klant shows for it: `{onderwerp} - ({nummer})`, or the onderwerp alone. */
  label: string;
}

/** Writes Open Klant rows with plain SQL, as a script or an admin tool would. */
export class OpenKlantDatabase {
  readonly pool: pg.Pool;

  constructor(settings: StackSettings) {
    this.pool = new pg.Pool({ ...settings.postgres, max: 4 });
  }

  async insertKlantcontact(
    onderwerp: string,
    nummer: string | null,
  ): Promise<InsertedKlantcontact> {
    const result = await this.pool.query<InsertedRow>(
      `INSERT INTO klantinteracties_klantcontact
         (uuid, nummer, kanaal, onderwerp, inhoud, indicatie_contact_gelukt, taal, vertrouwelijk,
          plaatsgevonden_op)
       VALUES ($1, $2, 'telefoon', $3, 'Vraag over de aanvraag', true, 'nld', false, now())
       RETURNING id, uuid`,
      [randomUUID(), nummer, onderwerp],
    );
    const label = nummer === null || nummer === '' ? onderwerp : `${onderwerp} - (${nummer})`;
    return { ...result.rows[0]!, label };
  }

  async insertOnderwerpobject(columns: OnderwerpobjectColumns): Promise<InsertedRow> {
    const result = await this.pool.query<InsertedRow>(
      `INSERT INTO klantinteracties_onderwerpobject
         (uuid, klantcontact_id, was_klantcontact_id, onderwerpobjectidentificator_object_id,
          onderwerpobjectidentificator_code_objecttype, onderwerpobjectidentificator_code_register,
          onderwerpobjectidentificator_code_soort_object_id)
       VALUES ($1, $2, NULL, $3, $4, $5, $6)
       RETURNING id, uuid`,
      [
        randomUUID(),
        columns.klantcontactId,
        columns.objectId,
        columns.objecttype,
        columns.register,
        columns.soortObjectId,
      ],
    );
    return result.rows[0]!;
  }

  async updateOnderwerpobject(id: number, columns: Partial<OnderwerpobjectColumns>): Promise<void> {
    const names: Record<keyof OnderwerpobjectColumns, string> = {
      klantcontactId: 'klantcontact_id',
      objectId: 'onderwerpobjectidentificator_object_id',
      objecttype: 'onderwerpobjectidentificator_code_objecttype',
      register: 'onderwerpobjectidentificator_code_register',
      soortObjectId: 'onderwerpobjectidentificator_code_soort_object_id',
    };
    const entries = Object.entries(columns) as [keyof OnderwerpobjectColumns, unknown][];
    const assignments = entries.map(([name], index) => `${names[name]} = $${index + 2}`);
    await this.pool.query(
      `UPDATE klantinteracties_onderwerpobject SET ${assignments.join(', ')} WHERE id = $1`,
      [id, ...entries.map(([, value]) => value)],
    );
  }

  async deleteOnderwerpobject(id: number): Promise<void> {
    await this.pool.query('DELETE FROM klantinteracties_onderwerpobject WHERE id = $1', [id]);
  }

  /** Waits until a connector has created its replication slot, after which it captures changes. */
  async waitForReplicationSlot(slot: string): Promise<void> {
    await waitFor(`replication slot ${slot}`, async () => {
      const result = await this.pool.query(
        'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1',
        [slot],
      );
      return result.rowCount === 1 ? true : undefined;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Columns of a row that links to the zaak, with every column the link rule reads. */
export function zaakColumns(klantcontactId: number, zaak: string): OnderwerpobjectColumns {
  return {
    klantcontactId,
    objectId: zaak,
    objecttype: 'zaak',
    register: 'open-zaak',
    soortObjectId: 'uuid',
  };
}
