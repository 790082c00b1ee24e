import { isInteger, isSafeNumber, parse } from 'lossless-json';
import { DeadLetterError, excerpt } from '../errors.js';

/**
 * Parses a record key or value. Integers beyond Number.MAX_SAFE_INTEGER become bigints, so that
 * a bigint primary key such as 9007199254740993 keeps every digit; JSON.parse would round it.
 */
export function parseJson(buffer: Buffer, part: 'key' | 'value'): unknown {
  try {
    return parse(buffer.toString('utf8'), null, parseNumber);
  } catch (error) {
    throw new DeadLetterError(
      'INVALID_JSON',
      `Record ${part} is not valid JSON (${(error as Error).message}). Check that the ` +
        'connector writes with org.apache.kafka.connect.json.JsonConverter.',
      { cause: error },
    );
  }
}

function parseNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number(text);
}

/** Strips the `{"schema": …, "payload": …}` wrapper of JsonConverter with schemas enabled. */
export function unwrapSchema(document: unknown): unknown {
  if (isObject(document) && 'schema' in document && 'payload' in document) {
    const keys = Object.keys(document);
    if (keys.length === 2) {
      return document.payload;
    }
  }
  return document;
}

/** Returns an integer as decimal text, or null for anything else, such as 1.5 or "x". */
export function integerText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return String(value);
  }
  if (typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) {
    return value;
  }
  return null;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Describes a value for an error message: its JSON type and, for a primitive, the value. */
export function typeOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'object') {
    return 'an object';
  }
  // JSON has no text for Infinity and NaN, which lossless parsing can produce from 1e400.
  const text = typeof value === 'number' ? String(value) : excerpt(value, 40);
  return `the ${typeof value} ${text}`;
}
