/**
 * Formats the label of a link as Open Klant does: `{onderwerp} - ({nummer})`, or the onderwerp
 * alone when the nummer is empty. Open Zaak stores the label in a field of at most 80 characters
 * and drops an event whose label is longer, so a label over `maxLength` characters is shortened:
 * the onderwerp is cut and ends in `…`, and the ` - ({nummer})` part is kept whole. Lengths count
 * Unicode code points, as Python's `len` does for Open Zaak's check.
 */
export function formatLabel(onderwerp: string, nummer: string | null, maxLength: number): string {
  const suffix = nummer === null || nummer === '' ? '' : ` - (${nummer})`;
  const subject = Array.from(onderwerp);
  const suffixLength = Array.from(suffix).length;
  if (subject.length + suffixLength <= maxLength) {
    return `${onderwerp}${suffix}`;
  }

  const room = maxLength - suffixLength - 1;
  if (room < 1) {
    // A nummer is at most 10 characters, so this only happens with a very small maxLength.
    return `${Array.from(`${onderwerp}${suffix}`)
      .slice(0, maxLength - 1)
      .join('')}…`;
  }
  return `${subject.slice(0, room).join('').trimEnd()}…${suffix}`;
}
