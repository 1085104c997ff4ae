// Text for error_description: the RFC 6749 §5.2 character set, and how client-supplied values are echoed.
import { describe, expect, it } from 'vitest';
import { isErrorDescription, MAX_ECHOED_CHARS, quoteValue } from '../../../src/auth/error-text.ts';

describe('isErrorDescription', () => {
  it.each(["parameter state is repeated", "redirect URI 'x' refused: y", '', '~!#[]{}'])('accepts %j', (text) => {
    expect(isErrorDescription(text)).toBe(true);
  });
  it.each(['a "quoted" word', 'back\\slash', 'new\nline', 'tab\t', 'é', '\u202e'])('refuses %j', (text) => {
    expect(isErrorDescription(text)).toBe(false);
  });
});

describe('quoteValue', () => {
  it.each([
    ['private_key_jwt', "'private_key_jwt'"],
    ['say "hi"\\', "'say ?hi??'"],
    ['a\nb\u0000c', "'a?b?c'"],
    ['café\u202e', "'caf??'"],
    ['', "''"],
  ])('%j → %j', (value, quoted) => {
    expect(quoteValue(value)).toBe(quoted);
    expect(isErrorDescription(quoted)).toBe(true);
  });

  it(`cuts values longer than ${MAX_ECHOED_CHARS} characters and marks the cut`, () => {
    expect(quoteValue('x'.repeat(MAX_ECHOED_CHARS))).toBe(`'${'x'.repeat(MAX_ECHOED_CHARS)}'`);
    expect(quoteValue('x'.repeat(5000))).toBe(`'${'x'.repeat(MAX_ECHOED_CHARS)}...'`);
    expect(quoteValue('abcdef', 3)).toBe("'abc...'");
  });
});
