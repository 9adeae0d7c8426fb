import { isStorableText, toStorableJson, toStorableText } from './storable-text';

describe('storable text', () => {
  it.each([
    ['a NUL', 'a\u0000b', false],
    ['a lone high surrogate', 'a\ud800b', false],
    ['a lone low surrogate', 'a\udfffb', false],
    ['a paired surrogate (an emoji)', 'a😀b', true],
  ])('judges text with %s storable: %s', (_case, value, expected) => {
    expect(isStorableText(value)).toBe(expected);
  });

  it('replaces NULs and lone surrogates in text we cannot refuse with U+FFFD, keeping the rest', () => {
    expect(toStorableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });

  it('writes JSON that jsonb accepts, strings and keys alike, leaving other values alone', () => {
    const json = toStorableJson([{ 'k\u0000': 'v\ud800', n: 1, nested: { ok: true } }]);

    expect(JSON.parse(json)).toEqual([{ 'k\uFFFD': 'v\uFFFD', n: 1, nested: { ok: true } }]);
    expect(json).not.toMatch(/\\u0000|\\ud800/);
  });
});
