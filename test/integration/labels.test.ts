import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OpenKlantDatabase } from '../support/database.js';
import { eventsAbout, expectedEvent } from '../support/expected.js';
import { testKafka, startGroupAtEnd, TopicReader, waitUntilProcessed } from '../support/kafka.js';
import {
  newProcessorSettings,
  ProcessorProcess,
  type ProcessorSettings,
} from '../support/processor-process.js';

const stack = inject('stack');
const kafka = testKafka(stack);
let admin: Admin;
let database: OpenKlantDatabase;
let settings: ProcessorSettings;
let processor: ProcessorProcess;
let input: TopicReader;
let output: TopicReader;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  database = new OpenKlantDatabase(stack);
  settings = newProcessorSettings(stack, 'labels');
  await startGroupAtEnd(admin, settings.groupId, settings.inputTopic);
  processor = ProcessorProcess.start(stack, settings);
  await processor.waitForLog((line) => line.msg === 'processor started');
  input = await TopicReader.start(kafka, settings.inputTopic, 'end');
  output = await TopicReader.start(kafka, settings.outputTopic);
});

afterAll(async () => {
  await processor?.stop();
  await input?.stop();
  await output?.stop();
  await database?.close();
  await admin?.disconnect();
});

async function publishedAbout(row: { id: number; uuid: string }, changes: number) {
  await waitUntilProcessed(admin, input, settings.groupId, [{ id: row.id, changes }]);
  return eventsAbout(await output.readToEnd(admin), [row.uuid]);
}

async function insertBoth(onderwerp: string, nummer: string | null, zaak: string) {
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    const klantcontact = await client.query<{ id: number }>(
      `INSERT INTO klantinteracties_klantcontact
         (uuid, nummer, kanaal, onderwerp, inhoud, indicatie_contact_gelukt, taal, vertrouwelijk,
          plaatsgevonden_op)
       VALUES ($1, $2, 'balie', $3, 'Gesprek aan de balie', true, 'nld', false, now())
       RETURNING id`,
      [randomUUID(), nummer, onderwerp],
    );
    const row = await client.query<{ id: number; uuid: string }>(
      `INSERT INTO klantinteracties_onderwerpobject
         (uuid, klantcontact_id, onderwerpobjectidentificator_object_id,
          onderwerpobjectidentificator_code_objecttype, onderwerpobjectidentificator_code_register,
          onderwerpobjectidentificator_code_soort_object_id)
       VALUES ($1, $2, $3, 'zaak', 'open-zaak', 'uuid') RETURNING id, uuid`,
      [randomUUID(), klantcontact.rows[0]!.id, zaak],
    );
    await client.query('COMMIT');
    return { klantcontactId: klantcontact.rows[0]!.id, row: row.rows[0]! };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

describe('labels from klantcontact', () => {
  it('labels a link made in the klantcontact transaction', async () => {
    const zaak = randomUUID();
    const { row } = await insertBoth('Aanvraag bijzondere bijstand', 'KC-3310', zaak);

    expect(await publishedAbout(row, 1)).toEqual([
      expectedEvent(
        settings,
        'zaak-gekoppeld',
        zaak,
        row.uuid,
        'Aanvraag bijzondere bijstand - (KC-3310)',
      ),
    ]);
  });

  it('uses the onderwerp alone without nummer', async () => {
    const zaak = randomUUID();
    const { row } = await insertBoth('Klacht over geluidsoverlast', null, zaak);

    expect(await publishedAbout(row, 1)).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, 'Klacht over geluidsoverlast'),
    ]);
  });

  it('shortens a label longer than 80 characters', async () => {
    const zaak = randomUUID();
    const onderwerp = `Verzoek om informatie ${'over de bouwvergunning '.repeat(7)}`.trim();
    const { row } = await insertBoth(onderwerp, 'KC-12', zaak);

    const label = `${Array.from(onderwerp)
      .slice(0, 80 - ' - (KC-12)'.length - 1)
      .join('')
      .trimEnd()}… - (KC-12)`;
    expect(await publishedAbout(row, 1)).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', zaak, row.uuid, label),
    ]);
    expect(Array.from(label).length).toBeLessThanOrEqual(80);
  });

  it('unlinks with the label the link opened with', async () => {
    const firstZaak = randomUUID();
    const secondZaak = randomUUID();
    const { klantcontactId, row } = await insertBoth('Vraag over WMO', 'KC-8', firstZaak);
    await database.pool.query(
      `UPDATE klantinteracties_klantcontact SET onderwerp = 'Vraag over WMO-voorziening'
       WHERE id = $1`,
      [klantcontactId],
    );
    await database.updateOnderwerpobject(row.id, { objectId: secondZaak });

    const events = await publishedAbout(row, 2);
    const about = (zaak: string) => events.filter((event) => event.key === zaak);

    expect(about(firstZaak)).toEqual([
      expectedEvent(settings, 'zaak-gekoppeld', firstZaak, row.uuid, 'Vraag over WMO - (KC-8)'),
      expectedEvent(settings, 'zaak-ontkoppeld', firstZaak, row.uuid, 'Vraag over WMO - (KC-8)'),
    ]);
    expect(about(secondZaak)).toEqual([
      expectedEvent(
        settings,
        'zaak-gekoppeld',
        secondZaak,
        row.uuid,
        'Vraag over WMO-voorziening - (KC-8)',
      ),
    ]);
  });
});
