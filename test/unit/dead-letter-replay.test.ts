import { describe, expect, it } from 'vitest';
import {
  matchesCodes,
  readLetter,
  replayHeaders,
  type ConsumedLetter,
  type ReplayableLetter,
} from '../../src/dead-letter/letters.js';
import {
  collectCodes,
  parseOffset,
  parsePartition,
  parseSince,
  planPartition,
  type PartitionOffsets,
  type ReplayRange,
} from '../../src/dead-letter/range.js';
import { describeLetter, piecesOf } from '../../src/dead-letter/replay.js';
import { ReplaySummary } from '../../src/dead-letter/summary.js';

const where = { topic: 'gemeente-dead-letter', partition: 2 };

const sourceHeaders = {
  'deadletter.error.code': Buffer.from('INVALID_ROW'),
  'deadletter.error.message': Buffer.from('Column "id" is a string.'),
  'deadletter.source.topic': Buffer.from('openklant.public.klantinteracties_onderwerpobject'),
  'deadletter.source.partition': Buffer.from('1'),
  'deadletter.source.offset': Buffer.from('41'),
  'deadletter.source.timestamp': Buffer.from('1796399176000'),
};

function letter(headers: ConsumedLetter['headers']): ConsumedLetter {
  return { key: Buffer.from('{"id":7}'), value: Buffer.from('{"op":"c"}'), headers, offset: '12' };
}

describe('replayHeaders', () => {
  it.each([
    ['no headers', {}, {}],
    ['only dead-letter headers', sourceHeaders, {}],
    [
      'original headers kept',
      { ...sourceHeaders, 'trace-id': Buffer.from('t1') },
      { 'trace-id': Buffer.from('t1') },
    ],
    [
      'repeated header kept whole',
      { tag: [Buffer.from('a'), Buffer.from('b')] },
      { tag: [Buffer.from('a'), Buffer.from('b')] },
    ],
    [
      'earlier replay header replaced',
      { 'deadletter.replayed-from': 'old:0:1', 'deadletter.custom': 'x', other: 'y' },
      { other: 'y' },
    ],
    ['header without value dropped', { gone: undefined, kept: 'v' }, { kept: 'v' }],
    [
      'similar prefix kept',
      { deadletters: 'v', 'x-deadletter.a': 'w' },
      { deadletters: 'v', 'x-deadletter.a': 'w' },
    ],
  ])('%s', (_name, headers, expected) => {
    expect(replayHeaders(headers, 'dlq:2:12')).toEqual({
      ...expected,
      'deadletter.replayed-from': 'dlq:2:12',
    });
  });
});

describe('readLetter', () => {
  it('builds the record to send back', () => {
    const read = readLetter(letter({ ...sourceHeaders, 'trace-id': Buffer.from('t1') }), where);
    expect(read).toEqual({
      kind: 'replay',
      position: { ...where, offset: '12' },
      code: 'INVALID_ROW',
      reason: 'Column "id" is a string.',
      target: { topic: 'openklant.public.klantinteracties_onderwerpobject', partition: 1 },
      record: {
        key: Buffer.from('{"id":7}'),
        value: Buffer.from('{"op":"c"}'),
        headers: {
          'trace-id': Buffer.from('t1'),
          'deadletter.replayed-from': 'gemeente-dead-letter:2:12',
        },
      },
    });
  });

  it('keeps a null key and value', () => {
    const read = readLetter({ key: null, value: null, headers: sourceHeaders, offset: '3' }, where);
    expect(read.kind).toBe('replay');
    expect((read as ReplayableLetter).record.key).toBeNull();
    expect((read as ReplayableLetter).record.value).toBeNull();
  });

  it('reads string headers and the last of repeated ones', () => {
    const read = readLetter(
      letter({
        ...sourceHeaders,
        'deadletter.source.partition': [Buffer.from('9'), '4'],
        'deadletter.error.code': 'INVALID_JSON',
      }),
      where,
    );
    expect(read).toMatchObject({ kind: 'replay', code: 'INVALID_JSON', target: { partition: 4 } });
  });

  it('gives an empty code and reason when their headers are missing', () => {
    const {
      'deadletter.error.code': _code,
      'deadletter.error.message': _message,
      ...rest
    } = sourceHeaders;
    expect(readLetter(letter(rest), where)).toMatchObject({ kind: 'replay', code: '', reason: '' });
  });

  it('rejects a source topic that the processor writes', () => {
    const read = readLetter(letter(sourceHeaders), where, new Set(['gemeente-dead-letter']));
    expect(read.kind).toBe('replay');
    const headers = { ...sourceHeaders, 'deadletter.source.topic': 'gemeente-dead-letter' };
    expect(readLetter(letter(headers), where, new Set(['gemeente-dead-letter']))).toEqual({
      kind: 'invalid',
      position: { ...where, offset: '12' },
      code: 'INVALID_ROW',
      problem:
        'header deadletter.source.topic is "gemeente-dead-letter", a topic the processor ' +
        'writes; expected its input topic',
    });
  });

  it.each([
    ['no headers', undefined, 'header deadletter.source.topic is missing; expected a topic name'],
    [
      'topic missing',
      { ...sourceHeaders, 'deadletter.source.topic': undefined },
      'header deadletter.source.topic is missing; expected a topic name',
    ],
    [
      'topic with a slash',
      { ...sourceHeaders, 'deadletter.source.topic': 'a/b' },
      'header deadletter.source.topic is "a/b"; expected a topic name',
    ],
    [
      'empty topic',
      { ...sourceHeaders, 'deadletter.source.topic': '' },
      'header deadletter.source.topic is ""; expected a topic name',
    ],
    [
      'partition missing',
      { ...sourceHeaders, 'deadletter.source.partition': undefined },
      'header deadletter.source.partition is missing; expected a partition number',
    ],
    [
      'negative partition',
      { ...sourceHeaders, 'deadletter.source.partition': '-1' },
      'header deadletter.source.partition is "-1"; expected a partition number',
    ],
    [
      'partition beyond int32',
      { ...sourceHeaders, 'deadletter.source.partition': '2147483648' },
      'header deadletter.source.partition is "2147483648"; expected a partition number',
    ],
    [
      'partition with a sign',
      { ...sourceHeaders, 'deadletter.source.partition': '+1' },
      'header deadletter.source.partition is "+1"; expected a partition number',
    ],
  ])('rejects %s', (_name, headers, problem) => {
    const read = readLetter(letter(headers), where);
    expect(read).toEqual({
      kind: 'invalid',
      position: { ...where, offset: '12' },
      code: headers === undefined ? '' : 'INVALID_ROW',
      problem,
    });
  });
});

describe('matchesCodes', () => {
  it.each([
    ['empty filter', 'INVALID_ROW', [], true],
    ['empty filter, no code', '', [], true],
    ['code in filter', 'INVALID_ROW', ['INVALID_JSON', 'INVALID_ROW'], true],
    ['code not in filter', 'INVALID_KEY', ['INVALID_ROW'], false],
    ['no code with a filter', '', ['INVALID_ROW'], false],
  ])('%s', (_name, code, codes, expected) => {
    expect(matchesCodes(code, new Set(codes))).toBe(expected);
  });
});

describe('planPartition', () => {
  const offsets: PartitionOffsets = { partition: 0, low: 10n, high: 50n, committed: null };
  const range = (start: ReplayRange['start'], toOffset?: bigint): ReplayRange => ({
    start,
    toOffset,
    partition: undefined,
  });

  it.each<[string, ReplayRange, Partial<PartitionOffsets>, bigint, bigint, boolean]>([
    ['new group', range({ from: 'committed' }), {}, 10n, 50n, false],
    ['committed offset', range({ from: 'committed' }), { committed: 30n }, 30n, 50n, false],
    ['committed at the end', range({ from: 'committed' }), { committed: 50n }, 50n, 50n, false],
    ['committed below low', range({ from: 'committed' }), { committed: 4n }, 10n, 50n, true],
    ['committed past the end', range({ from: 'committed' }), { committed: 70n }, 50n, 50n, true],
    ['from beginning', range({ from: 'beginning' }), { committed: 30n }, 10n, 50n, false],
    ['from offset', range({ from: 'offset', offset: 20n }), { committed: 30n }, 20n, 50n, false],
    ['from offset below low', range({ from: 'offset', offset: 3n }), {}, 10n, 50n, true],
    ['from offset past the end', range({ from: 'offset', offset: 90n }), {}, 50n, 50n, false],
    ['to offset', range({ from: 'beginning' }, 19n), {}, 10n, 20n, false],
    ['to offset past the end', range({ from: 'beginning' }, 99n), {}, 10n, 50n, false],
    ['to offset before start', range({ from: 'offset', offset: 30n }, 19n), {}, 20n, 20n, false],
    [
      'timestamp',
      range({ from: 'timestamp', timestamp: 1 }),
      { atTimestamp: 25n, committed: 40n },
      25n,
      50n,
      false,
    ],
    [
      'timestamp after every letter',
      range({ from: 'timestamp', timestamp: 1 }),
      {},
      50n,
      50n,
      false,
    ],
  ])('%s', (_name, replayRange, change, start, end, warns) => {
    const plan = planPartition(replayRange, { ...offsets, ...change });
    expect(plan.start).toBe(start);
    expect(plan.end).toBe(end);
    expect(plan.committed).toBe(change.committed ?? null);
    expect(plan.warning !== undefined).toBe(warns);
  });
});

describe('option parsers', () => {
  it.each([
    ['0', 0n],
    ['42', 42n],
    ['9223372036854775807', 9223372036854775807n],
  ])('parseOffset accepts %s', (value, expected) => {
    expect(parseOffset(value)).toBe(expected);
  });

  it.each(['', '-1', '1.5', '0x10', ' 1', '9223372036854775808', 'abc'])(
    'parseOffset rejects "%s"',
    (value) => {
      expect(() => parseOffset(value)).toThrow('Expected an offset: a whole number from 0.');
    },
  );

  it.each([
    ['0', 0],
    ['2147483647', 2147483647],
  ])('parsePartition accepts %s', (value, expected) => {
    expect(parsePartition(value)).toBe(expected);
  });

  it.each(['-1', '2147483648', 'one', '1e3'])('parsePartition rejects "%s"', (value) => {
    expect(() => parsePartition(value)).toThrow('Expected a partition number');
  });

  it.each([
    ['1796399176000', 1796399176000],
    ['2026-03-01', Date.UTC(2026, 2, 1)],
    ['2026-03-01T09:00Z', Date.UTC(2026, 2, 1, 9)],
    ['2026-03-01T09:00:00Z', Date.UTC(2026, 2, 1, 9)],
    ['2026-03-01T09:00:00.250Z', Date.UTC(2026, 2, 1, 9, 0, 0, 250)],
    ['2026-03-01T10:00:00+01:00', Date.UTC(2026, 2, 1, 9)],
  ])('parseSince accepts %s', (value, expected) => {
    expect(parseSince(value)).toBe(expected);
  });

  it.each(['2026-03-01T09:00:00', 'yesterday', '2026-13-45T00:00:00Z', '-5', ''])(
    'parseSince rejects "%s"',
    (value) => {
      expect(() => parseSince(value)).toThrow('Expected milliseconds since the Unix epoch');
    },
  );

  it.each([
    ['one code', 'INVALID_ROW', [], ['INVALID_ROW']],
    ['comma-separated', 'INVALID_ROW, INVALID_KEY', [], ['INVALID_ROW', 'INVALID_KEY']],
    ['repeated option', 'INVALID_KEY', ['INVALID_JSON'], ['INVALID_JSON', 'INVALID_KEY']],
  ])('collectCodes takes %s', (_name, value, previous, expected) => {
    expect(collectCodes(value, previous)).toEqual(expected);
  });

  it.each(['', ',', 'INVALID_ROWS', 'invalid_row', 'INVALID_ROW,OTHER'])(
    'collectCodes rejects "%s"',
    (value) => {
      expect(() => collectCodes(value, [])).toThrow(
        'Expected one or more of INVALID_JSON, INVALID_ENVELOPE, INVALID_KEY, INVALID_ROW, ' +
          'UNSUPPORTED_OPERATION, UNAVAILABLE_VALUE, NOT_A_CHANGE_EVENT, INVALID_AVRO, UNKNOWN_SCHEMA.',
      );
    },
  );
});

describe('piecesOf', () => {
  const sized = (bytes: number, name: string): ReplayableLetter => ({
    kind: 'replay',
    position: { ...where, offset: name },
    code: 'INVALID_JSON',
    reason: '',
    target: { topic: 't', partition: 0 },
    record: { key: null, value: Buffer.alloc(bytes), headers: {} },
  });
  const offsetsOf = (pieces: ReplayableLetter[][]) =>
    pieces.map((piece) => piece.map((item) => item.position.offset));

  it.each<[string, [number, string][], string[][]]>([
    ['no letters', [], []],
    [
      'all fit',
      [
        [40, 'a'],
        [60, 'b'],
      ],
      [['a', 'b']],
    ],
    [
      'split at the limit',
      [
        [60, 'a'],
        [50, 'b'],
        [50, 'c'],
      ],
      [['a'], ['b', 'c']],
    ],
    [
      'oversized letter alone',
      [
        [10, 'a'],
        [250, 'b'],
        [10, 'c'],
      ],
      [['a'], ['b'], ['c']],
    ],
  ])('%s', (_name, sizes, expected) => {
    expect(
      offsetsOf(
        piecesOf(
          sizes.map(([bytes, name]) => sized(bytes, name)),
          100,
        ),
      ),
    ).toEqual(expected);
  });

  it('counts key and header bytes', () => {
    const withHeaders: ReplayableLetter = {
      ...sized(10, 'a'),
      record: { key: Buffer.alloc(20), value: Buffer.alloc(10), headers: { ab: ['cd', 'ef'] } },
    };
    // 20 + 10 + 2 × (2 + 2) = 38 bytes each; three do not fit in 100.
    expect(offsetsOf(piecesOf([withHeaders, withHeaders, withHeaders], 100))).toEqual([
      ['a', 'a'],
      ['a'],
    ]);
  });
});

describe('replay output', () => {
  const replayable = readLetter(letter(sourceHeaders), where) as ReplayableLetter;

  it('describes a letter without its value', () => {
    expect(describeLetter(replayable, true)).toBe(
      'would re-send gemeente-dead-letter:2:12 to ' +
        'openklant.public.klantinteracties_onderwerpobject[1] code=INVALID_ROW ' +
        'reason="Column \\"id\\" is a string."',
    );
    expect(describeLetter(replayable, false)).toMatch(/^re-sent gemeente-dead-letter:2:12 /);
  });

  it('summarises counts per code and target', () => {
    const summary = new ReplaySummary();
    summary.read = 4;
    summary.filteredOut = 1;
    summary.addResent(replayable);
    summary.addResent({ ...replayable, code: 'INVALID_JSON' });
    const invalid = readLetter(letter({}), where);
    if (invalid.kind === 'invalid') {
      summary.invalid.push(invalid);
    }
    expect(summary.lines('gemeente-dead-letter', false)).toEqual([
      'Re-sent 2 of 4 dead letters read from gemeente-dead-letter.',
      '  by error code: INVALID_JSON 1, INVALID_ROW 1',
      '  by target topic: openklant.public.klantinteracties_onderwerpobject 2',
      '  left out by --error-code: 1',
      '  cannot re-send gemeente-dead-letter:2:12: header deadletter.source.topic is missing; ' +
        'expected a topic name',
    ]);
    expect(summary.fields()).toEqual({
      read: 4,
      resent: 2,
      filteredOut: 1,
      invalid: 1,
      byCode: { INVALID_ROW: 1, INVALID_JSON: 1 },
      byTarget: { 'openklant.public.klantinteracties_onderwerpobject': 2 },
    });
  });

  it('summarises an empty run in one line', () => {
    expect(new ReplaySummary().lines('dlq', true)).toEqual([
      'Would re-send 0 of 0 dead letters read from dlq.',
    ]);
  });
});
