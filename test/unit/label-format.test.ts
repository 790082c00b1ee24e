import { describe, expect, it } from 'vitest';
import { formatLabel } from '../../src/label/format.js';

const long =
  'Aanvraag omgevingsvergunning voor het plaatsen van een dakkapel aan de achterzijde van de woning';

describe('formatLabel', () => {
  it.each([
    [
      'onderwerp and nummer',
      'Vraag over afvalpas',
      'KC-2041',
      80,
      'Vraag over afvalpas - (KC-2041)',
    ],
    ['no nummer', 'Vraag over afvalpas', null, 80, 'Vraag over afvalpas'],
    ['empty nummer', 'Vraag over afvalpas', '', 80, 'Vraag over afvalpas'],
    ['empty onderwerp', '', 'KC-1', 80, ' - (KC-1)'],
    ['exactly the maximum', 'a'.repeat(68), '1234567', 80, `${'a'.repeat(68)} - (1234567)`],
    ['one over the maximum', 'a'.repeat(69), '1234567', 80, `${'a'.repeat(67)}… - (1234567)`],
    [
      'long onderwerp with nummer',
      long,
      'KC-1001',
      80,
      'Aanvraag omgevingsvergunning voor het plaatsen van een dakkapel aan… - (KC-1001)',
    ],
    ['long onderwerp without nummer', long, null, 40, 'Aanvraag omgevingsvergunning voor het p…'],
    ['emoji counted as one character', `${'é'.repeat(78)}🏠🏠`, null, 80, `${'é'.repeat(78)}🏠🏠`],
    ['emoji not split', `${'x'.repeat(78)}🏠🏠🏠`, null, 80, `${'x'.repeat(78)}🏠…`],
    ['tiny maximum', 'Vraag', 'KC-1', 5, 'Vraa…'],
  ])('%s', (_name, onderwerp, nummer, maxLength, expected) => {
    const label = formatLabel(onderwerp, nummer, maxLength);
    expect(label).toBe(expected);
    expect(Array.from(label).length).toBeLessThanOrEqual(maxLength);
  });
});
