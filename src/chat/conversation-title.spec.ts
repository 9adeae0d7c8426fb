import { titleFromMessage } from './conversation-title';

const graphemes = (text: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)];

describe(titleFromMessage.name, () => {
  it('keeps a short message whole, on one line', () => {
    expect(titleFromMessage('  Plan the\n trip  ')).toBe('Plan the trip');
  });

  it('cuts a long message at a word near 80 characters, marking the cut', () => {
    const title = titleFromMessage(`${'word '.repeat(30)}end`);

    expect(title.endsWith('word…')).toBe(true);
    expect(title.length).toBeLessThanOrEqual(80);
  });

  it.each([
    ['a family emoji (a ZWJ sequence)', '👨‍👩‍👧‍👦'],
    ['a flag (a pair of regional indicators)', '🇵🇹'],
    ['a letter with combining accents', 'e\u0301\u0323'],
  ])('never splits %s where the cut falls inside it', (_case, cluster) => {
    for (let prefix = 70; prefix <= 80; prefix++) {
      const message = 'x'.repeat(prefix) + cluster.repeat(10);

      const title = titleFromMessage(message);

      const kept = graphemes(title.slice(0, -1)).map(({ segment }) => segment);
      expect(kept.every((segment) => segment === 'x' || segment === cluster)).toBe(true);
      expect(title.length).toBeLessThanOrEqual(80);
    }
  });

  it('stays within 80 UTF-16 units even when one grapheme is longer than that', () => {
    const zalgo = `a${'\u0301'.repeat(300)}`;

    const title = titleFromMessage(`${zalgo} tail`);

    expect(title.length).toBeLessThanOrEqual(80);
    expect(title.isWellFormed()).toBe(true);
  });
});
