import { expect } from 'vitest';
import { expectedEvent, type PublishedEvent } from './expected.js';
import type { ConsumedRecord } from './kafka.js';
import type { ProcessorSettings } from './processor-process.js';
import type { Workload } from './workload.js';

export interface OutputSummary {
  changes: number;
  events: number;
  missing: number;
  duplicated: number;
}

/**
 * Checks that the committed output contains exactly the events the workload's SQL causes: every
 * event whole, no event missing or duplicated, and each zaak's events in order.
 */
export function expectExactOutput(
  records: ConsumedRecord[],
  workload: Workload,
  settings: ProcessorSettings,
  label: string,
): OutputSummary {
  const rowUuids = new Set(workload.expected.map((event) => event.rowUuid));
  const published: PublishedEvent[] = [];
  for (const record of records) {
    const event = JSON.parse(record.value ?? 'null') as { data?: { linkTo?: string } };
    const rowUuid = event.data?.linkTo?.split('/').pop() ?? '';
    if (rowUuids.has(rowUuid)) {
      published.push({ key: record.key, headers: record.headers, event: event as never });
    }
  }

  const expectedByZaak = new Map<string | null, PublishedEvent[]>();
  for (const event of workload.expected) {
    const whole = expectedEvent(settings, event.type, event.zaak, event.rowUuid, label);
    expectedByZaak.set(event.zaak, [...(expectedByZaak.get(event.zaak) ?? []), whole]);
  }
  const publishedByZaak = new Map<string | null, PublishedEvent[]>();
  for (const event of published) {
    publishedByZaak.set(event.key, [...(publishedByZaak.get(event.key) ?? []), event]);
  }

  const ids = published.map((event) => event.event.id as string);
  const duplicated = ids.length - new Set(ids).size;
  const missing = [...expectedByZaak].filter(
    ([zaak, events]) => (publishedByZaak.get(zaak)?.length ?? 0) < events.length,
  ).length;

  expect(duplicated).toBe(0);
  expect(published).toHaveLength(workload.expected.length);
  expect(publishedByZaak).toEqual(expectedByZaak);
  return { changes: workload.changes, events: published.length, missing, duplicated };
}
