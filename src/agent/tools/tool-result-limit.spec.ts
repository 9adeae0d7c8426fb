import { capToolResultText, fitsInBytes } from './tool-result-limit';

describe(capToolResultText.name, () => {
  it('keeps a result within the limit unchanged', () => {
    expect(capToolResultText('short', 1024)).toBe('short');
  });

  it.each([
    ['one-byte', 'a'],
    ['two-byte', 'é'],
    ['three-byte', '€'],
    ['four-byte', '🦊'],
  ])('cuts %s characters on a character boundary, note included within the limit', (_kind, char) => {
    const text = char.repeat(5000);
    const cut = capToolResultText(text, 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    const [kept, note] = cut.split('\n');
    expect(char.repeat(kept.length / char.length)).toBe(kept);
    expect(note).toBe(`[cut by the service: ${Buffer.byteLength(kept)} of ${Buffer.byteLength(text)} bytes kept]`);
  });
});

describe(fitsInBytes.name, () => {
  it('measures the UTF-8 bytes of the JSON', () => {
    expect(fitsInBytes({ t: 'é' }, 10)).toBe(true); // {"t":"é"} is 10 bytes
    expect(fitsInBytes({ t: 'éé' }, 10)).toBe(false);
  });
});
