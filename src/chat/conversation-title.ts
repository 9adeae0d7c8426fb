const TITLE_LENGTH = 80;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** A conversation's first title: its first message on one line, cut at a word near 80 characters. */
export function titleFromMessage(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  if (line.length <= TITLE_LENGTH) return line;
  const cut = headOfWholeGraphemes(line, TITLE_LENGTH - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${lastSpace > TITLE_LENGTH / 2 ? cut.slice(0, lastSpace) : cut}…`;
}

/** Cuts on a grapheme boundary, so an emoji or an accented letter is never split. */
function headOfWholeGraphemes(text: string, maxLength: number): string {
  let end = 0;
  for (const { index, segment } of graphemes.segment(text)) {
    if (index + segment.length > maxLength) break;
    end = index + segment.length;
  }
  return text.slice(0, end);
}
