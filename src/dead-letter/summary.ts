import type { InvalidLetter, ReplayableLetter } from './letters.js';

/** Counts of one replay run, for the summary it prints and logs. */
export class ReplaySummary {
  /** Letters read from the dead-letter topic within the planned offsets. */
  read = 0;
  /** Letters re-sent, or that a dry run would re-send. */
  resent = 0;
  /** Letters that the `--error-code` filter left out. */
  filteredOut = 0;
  readonly invalid: InvalidLetter[] = [];
  readonly byCode = new Map<string, number>();
  readonly byTarget = new Map<string, number>();

  addResent(letter: ReplayableLetter): void {
    this.resent += 1;
    increment(this.byCode, letter.code);
    increment(this.byTarget, letter.target.topic);
  }

  /** Returns the counts as log fields. */
  fields(): Record<string, unknown> {
    return {
      read: this.read,
      resent: this.resent,
      filteredOut: this.filteredOut,
      invalid: this.invalid.length,
      byCode: Object.fromEntries(this.byCode),
      byTarget: Object.fromEntries(this.byTarget),
    };
  }

  /** Formats the summary as lines of text. */
  lines(deadLetterTopic: string, dryRun: boolean): string[] {
    const verb = dryRun ? 'Would re-send' : 'Re-sent';
    const lines = [
      `${verb} ${this.resent} of ${this.read} dead letters read from ${deadLetterTopic}.`,
    ];
    if (this.byCode.size > 0) {
      lines.push(`  by error code: ${formatCounts(this.byCode)}`);
      lines.push(`  by target topic: ${formatCounts(this.byTarget)}`);
    }
    if (this.filteredOut > 0) {
      lines.push(`  left out by --error-code: ${this.filteredOut}`);
    }
    for (const letter of this.invalid) {
      const { topic, partition, offset } = letter.position;
      lines.push(`  cannot re-send ${topic}:${partition}:${offset}: ${letter.problem}`);
    }
    return lines;
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function formatCounts(counts: Map<string, number>): string {
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, count]) => `${key || '(none)'} ${count}`)
    .join(', ');
}
