/** Cut on a character boundary, with a note saying how much was kept; `maxBytes` must leave room for it (≥ 1 KiB). */
export function capToolResultText(text: string, maxBytes: number): string {
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= maxBytes) return text;
  const note = (kept: number) => `\n[cut by the service: ${kept} of ${size} bytes kept]`;
  const encoded = Buffer.from(text, 'utf8');
  // note(size) is the longest the note can be: whatever is kept fits beside it.
  let end = Math.max(0, maxBytes - Buffer.byteLength(note(size)));
  while (end > 0 && isContinuationByte(encoded[end])) end--;
  return encoded.subarray(0, end).toString('utf8') + note(end);
}

export function fitsInBytes(value: unknown, maxBytes: number): boolean {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8') <= maxBytes;
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
