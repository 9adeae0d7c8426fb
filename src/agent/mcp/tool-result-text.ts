import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/sdk/types.js';

/** Text blocks joined; other blocks as placeholders (the model cannot use raw bytes in a tool result). */
export function toolResultText(result: Pick<CallToolResult, 'content' | 'structuredContent'>): string {
  const text = result.content.map(blockText).join('\n');
  if (text !== '') return text;
  return result.structuredContent === undefined ? '(no output)' : JSON.stringify(result.structuredContent);
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
      return `[image ${block.mimeType}]`;
    case 'audio':
      return `[audio ${block.mimeType}]`;
    case 'resource':
      return `[resource ${block.resource.uri}]`;
    case 'resource_link':
      return `[resource link ${block.uri}]`;
  }
}
