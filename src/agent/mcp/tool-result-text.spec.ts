import { toolResultText } from './tool-result-text';

describe(toolResultText.name, () => {
  it('joins the text blocks', () => {
    const content = [
      { type: 'text' as const, text: 'first' },
      { type: 'text' as const, text: 'second' },
    ];

    expect(toolResultText({ content })).toBe('first\nsecond');
  });

  it('summarises images, audio and resources as short placeholders', () => {
    const text = toolResultText({
      content: [
        { type: 'text', text: 'chart:' },
        { type: 'image', data: 'iVBORw0KGgo='.repeat(1000), mimeType: 'image/png' },
        { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
        { type: 'resource', resource: { uri: 'file:///report.pdf', blob: 'JVBERi0=' } },
        { type: 'resource_link', uri: 'https://example.com/doc', name: 'doc' },
      ],
    });

    expect(text).toBe(
      'chart:\n[image image/png]\n[audio audio/wav]\n[resource file:///report.pdf]\n[resource link https://example.com/doc]',
    );
  });

  it('falls back to the structured content as JSON when there is no text', () => {
    expect(toolResultText({ content: [], structuredContent: { task_id: 3, status: 'created' } })).toBe(
      '{"task_id":3,"status":"created"}',
    );
  });

  it('says so when a tool returned nothing', () => {
    expect(toolResultText({ content: [] })).toBe('(no output)');
  });
});
