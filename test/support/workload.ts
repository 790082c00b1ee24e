import { randomUUID } from 'node:crypto';
import type { OpenKlantDatabase } from './database.js';

/**
 * A stream of SQL changes to onderwerpobject rows and the link events they must cause, derived
 * from the SQL alone. Every link uses a zaak of its own, so the events about one zaak come from one
 * row and have a defined order in the output.
 */
export interface ExpectedEvent {
  type: 'zaak-gekoppeld' | 'zaak-ontkoppeld';
  zaak: string;
  rowUuid: string;
}

type Operation =
  | { kind: 'create'; linked: boolean }
  | { kind: 'move' }
  | { kind: 'unlink' }
  | { kind: 'touch' }
  | { kind: 'delete' };

interface Row {
  id: number;
  uuid: string;
  zaak: string | null;
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Workload {
  readonly expected: ExpectedEvent[] = [];
  /** Changes written per row id, tombstones excluded. */
  readonly changesByRow = new Map<number, number>();
  private readonly alive: Row[] = [];
  private readonly random: () => number;
  changes = 0;

  constructor(
    private readonly database: OpenKlantDatabase,
    private readonly klantcontactId: number,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /**
   * Writes `changes` changes in transactions of up to `perTransaction` statements. The first
   * `rows` changes create rows; the rest update or delete random live rows.
   */
  async write(rows: number, changes: number, perTransaction = 50): Promise<void> {
    const operations: Operation[] = [];
    for (let index = 0; index < changes; index += 1) {
      operations.push(index < rows ? { kind: 'create', linked: this.random() < 0.8 } : this.pick());
    }
    for (let start = 0; start < operations.length; start += perTransaction) {
      await this.runTransaction(operations.slice(start, start + perTransaction));
    }
  }

  private pick(): Operation {
    const roll = this.random();
    if (roll < 0.4) {
      return { kind: 'move' };
    }
    if (roll < 0.6) {
      return { kind: 'unlink' };
    }
    if (roll < 0.85) {
      return { kind: 'touch' };
    }
    return { kind: 'delete' };
  }

  private async runTransaction(operations: Operation[]): Promise<void> {
    const client = await this.database.pool.connect();
    const pending: ExpectedEvent[] = [];
    try {
      await client.query('BEGIN');
      for (const operation of operations) {
        await this.apply(client, operation, pending);
      }
      await client.query('COMMIT');
      this.expected.push(...pending);
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  private async apply(
    client: { query: (sql: string, values: unknown[]) => Promise<{ rows: { id: number }[] }> },
    operation: Operation,
    pending: ExpectedEvent[],
  ): Promise<void> {
    if (operation.kind === 'create' || this.alive.length === 0) {
      const linked = operation.kind === 'create' ? operation.linked : true;
      const row: Row = { id: 0, uuid: randomUUID(), zaak: linked ? randomUUID() : null };
      const result = await client.query(
        `INSERT INTO klantinteracties_onderwerpobject
           (uuid, klantcontact_id, onderwerpobjectidentificator_object_id,
            onderwerpobjectidentificator_code_objecttype, onderwerpobjectidentificator_code_register,
            onderwerpobjectidentificator_code_soort_object_id)
         VALUES ($1, $2, $3, $4, 'open-zaak', 'uuid') RETURNING id`,
        [row.uuid, this.klantcontactId, row.zaak ?? randomUUID(), linked ? 'zaak' : 'klant'],
      );
      row.id = result.rows[0]!.id;
      this.alive.push(row);
      this.changesByRow.set(row.id, 1);
      this.changes += 1;
      if (row.zaak !== null) {
        pending.push({ type: 'zaak-gekoppeld', zaak: row.zaak, rowUuid: row.uuid });
      }
      return;
    }

    const index = Math.floor(this.random() * this.alive.length);
    const row = this.alive[index]!;
    this.changesByRow.set(row.id, (this.changesByRow.get(row.id) ?? 0) + 1);
    const unlink = () => {
      if (row.zaak !== null) {
        pending.push({ type: 'zaak-ontkoppeld', zaak: row.zaak, rowUuid: row.uuid });
        row.zaak = null;
      }
    };
    this.changes += 1;
    switch (operation.kind) {
      case 'move': {
        const zaak = randomUUID();
        await client.query(
          `UPDATE klantinteracties_onderwerpobject
             SET onderwerpobjectidentificator_object_id = $2,
                 onderwerpobjectidentificator_code_objecttype = 'zaak'
           WHERE id = $1`,
          [row.id, zaak],
        );
        unlink();
        row.zaak = zaak;
        pending.push({ type: 'zaak-gekoppeld', zaak, rowUuid: row.uuid });
        return;
      }
      case 'unlink':
        await client.query(
          `UPDATE klantinteracties_onderwerpobject
             SET onderwerpobjectidentificator_code_objecttype = 'klant' WHERE id = $1`,
          [row.id],
        );
        unlink();
        return;
      case 'touch':
        await client.query(
          `UPDATE klantinteracties_onderwerpobject
             SET onderwerpobjectidentificator_code_register = $2 WHERE id = $1`,
          [row.id, `register-${this.changes}`],
        );
        return;
      case 'delete':
        await client.query('DELETE FROM klantinteracties_onderwerpobject WHERE id = $1', [row.id]);
        unlink();
        this.alive.splice(index, 1);
        return;
    }
  }
}

/** The rows a workload wrote, with their change counts, as waitUntilProcessed takes them. */
export function writtenRows(workload: Workload): { id: number; changes: number }[] {
  return [...workload.changesByRow].map(([id, changes]) => ({ id, changes }));
}
