import { describe, expect, it } from 'vitest';
import { DeadLetterError } from '../../src/errors.js';
import { deadLetterMessage } from '../../src/processor/dead-letter.js';

describe('deadLetterMessage', () => {
  const error = new DeadLetterError('INVALID_JSON', 'Record value is not JSON.');
  const origin = { topic: 'openklant.public.klantinteracties_onderwerpobject', partition: 2 };

  it.each([
    ['a text header', { trace: 'abc' }, { trace: 'abc' }],
    ['a binary header', { trace: Buffer.from([0, 255]) }, { trace: Buffer.from([0, 255]) }],
    ['a header whose value is null', { trace: null }, { trace: Buffer.alloc(0) }],
  ])('keeps %s of the record', (_name, headers, kept) => {
    const letter = deadLetterMessage(
      {
        key: Buffer.from('{"id":7}'),
        value: Buffer.from('{'),
        headers: headers as never,
        offset: '41',
        timestamp: '1796399176000',
      },
      error,
      origin,
    );

    expect(letter).toEqual({
      key: Buffer.from('{"id":7}'),
      value: Buffer.from('{'),
      headers: {
        ...kept,
        'deadletter.error.code': 'INVALID_JSON',
        'deadletter.error.message': 'Record value is not JSON.',
        'deadletter.source.topic': origin.topic,
        'deadletter.source.partition': '2',
        'deadletter.source.offset': '41',
        'deadletter.source.timestamp': '1796399176000',
      },
    });
  });
});
