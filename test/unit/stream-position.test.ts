import { describe, expect, it } from 'vitest';
import {
  compareStreamPositions,
  isResent,
  streamPositionOf,
  type StreamPosition,
} from '../../src/state/stream-position.js';

const at = (lastCommitLsn: string | null, changeLsn: string): StreamPosition => ({
  lastCommitLsn,
  changeLsn,
});

describe('streamPositionOf', () => {
  const base = { lsn: '26848336', txId: '877', tsMs: 0, snapshot: false };

  it.each([
    [
      'streamed change',
      { ...base, sequence: ['26835072', '26848336'] },
      at('26835072', '26848336'),
    ],
    [
      'first change after snapshot',
      { ...base, sequence: [null, '26815176'] },
      at(null, '26815176'),
    ],
    ['snapshot read', { ...base, snapshot: true, sequence: [null, '26815136'] }, null],
    ['no sequence', { ...base, sequence: null }, null],
    ['no change lsn', { ...base, sequence: ['1', null] }, null],
  ] as const)('%s', (_name, position, expected) => {
    expect(
      streamPositionOf({ ...position, sequence: position.sequence && [...position.sequence] }),
    ).toEqual(expected);
  });
});

describe('compareStreamPositions', () => {
  // Recorded from two interleaved transactions: T1 began first, T2 committed first.
  const t2First = at('26835072', '26848336');
  const t2Second = at('26835072', '26848696');
  const t1First = at('26849104', '26835464');
  const t1Second = at('26849104', '26849104');

  it('orders interleaved transactions by commit', () => {
    const streamed = [t2First, t2Second, t1First, t1Second];
    const sorted = [...streamed].reverse().sort(compareStreamPositions);
    expect(sorted).toEqual(streamed);
  });

  it('compares LSNs beyond 2^53', () => {
    expect(compareStreamPositions(at('9007199254740993', '1'), at('9007199254740992', '2'))).toBe(
      1,
    );
  });
});

describe('isResent', () => {
  const processed = at('26849104', '26849104');

  it.each([
    ['an earlier change', at('26835072', '26848696'), true],
    ['the same change', at('26849104', '26849104'), true],
    ['a later change of the same transaction', at('26849104', '26849200'), false],
    ['a change of a later transaction', at('26850000', '26849900'), false],
    ['a change without last commit lsn', at(null, '1'), false],
    ['no position', null, false],
  ])('%s', (_name, change, expected) => {
    expect(isResent(change, processed)).toBe(expected);
  });

  it('treats nothing as re-sent before the first change', () => {
    expect(isResent(at('1', '1'), null)).toBe(false);
  });
});
