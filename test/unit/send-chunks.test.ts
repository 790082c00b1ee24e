import { describe, expect, it } from 'vitest';
import { sendChunks } from '../../src/sink/send.js';

/** Builds a message whose key and value together take `bytes` bytes. */
function message(name: string, bytes: number) {
  return { key: name, value: 'x'.repeat(bytes - name.length) };
}

describe('sendChunks', () => {
  const a = message('a', 400);
  const b = message('b', 400);
  const c = message('c', 400);
  const giant = message('g', 5_000);

  it.each([
    ['fits in one send', [{ topic: 't', messages: [a, b] }], [{ topic: 't', messages: [a, b] }]],
    [
      'splits in order above the limit',
      [{ topic: 't', messages: [a, b, c] }],
      [
        { topic: 't', messages: [a, b] },
        { topic: 't', messages: [c] },
      ],
    ],
    [
      'gives a message above the limit a send of its own',
      [{ topic: 't', messages: [a, giant, b] }],
      [
        { topic: 't', messages: [a] },
        { topic: 't', messages: [giant] },
        { topic: 't', messages: [b] },
      ],
    ],
    [
      'keeps topics apart',
      [
        { topic: 't', messages: [a] },
        { topic: 'u', messages: [b] },
      ],
      [
        { topic: 't', messages: [a] },
        { topic: 'u', messages: [b] },
      ],
    ],
    ['sends nothing for no messages', [], []],
  ])('%s', (_name, input, chunks) => {
    expect(sendChunks(input, 1_000)).toEqual(chunks);
  });
});
