import { anthropicToolNames, MAX_TOOL_NAME_LENGTH } from './anthropic-tool-names';

const ANTHROPIC_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const names = (tools: { server: string; name: string }[]) => anthropicToolNames(tools).map((t) => t.anthropicName);

describe(anthropicToolNames.name, () => {
  it('keeps the own name of a tool that no other server offers', () => {
    expect(names([{ server: 'tasks', name: 'add_task' }])).toEqual(['add_task']);
  });

  it('prefixes both tools with their server when two servers offer the same name', () => {
    const named = anthropicToolNames([
      { server: 'tasks', name: 'search' },
      { server: 'docs', name: 'search' },
      { server: 'docs', name: 'fetch' },
    ]);

    expect(named.map(({ anthropicName, tool }) => [anthropicName, tool.server, tool.name])).toEqual([
      ['fetch', 'docs', 'fetch'],
      ['docs__search', 'docs', 'search'],
      ['tasks__search', 'tasks', 'search'],
    ]);
  });

  it('replaces characters Anthropic does not accept with underscores', () => {
    expect(names([{ server: 'files', name: 'read.file/v2 (beta)' }])).toEqual(['read_file_v2__beta_']);
    expect(
      names([
        { server: 'my.files', name: 'x' },
        { server: 'other', name: 'x' },
      ]),
    ).toEqual(['my_files__x', 'other__x']);
  });

  it('treats names that sanitise to the same text as a clash', () => {
    expect(
      names([
        { server: 'a', name: 'get.item' },
        { server: 'b', name: 'get_item' },
      ]),
    ).toEqual(['a__get_item', 'b__get_item']);
  });

  it('keeps two tools of one server apart when only their replaced characters differ', () => {
    const result = names([
      { server: 'a', name: 'get.item' },
      { server: 'a', name: 'get_item' },
    ]);

    expect(new Set(result).size).toBe(2);
    for (const name of result) expect(name).toMatch(/^get_item_[0-9a-f]{8}$/);
  });

  it('shortens long names with a hash suffix so they stay within 128 characters and unique', () => {
    const long = 'x'.repeat(200);
    const result = names([
      { server: 'a', name: `${long}_one` },
      { server: 'a', name: `${long}_two` },
    ]);

    for (const name of result) {
      expect(name).toMatch(ANTHROPIC_NAME);
      expect(name).toHaveLength(MAX_TOOL_NAME_LENGTH);
    }
    expect(result[0]).not.toBe(result[1]);
  });

  it('gives the same names in the same order whatever order the tools arrive in', () => {
    const tools = [
      { server: 'b', name: 'zeta' },
      { server: 'a', name: 'same' },
      { server: 'b', name: 'same' },
      { server: 'a', name: 'alpha' },
    ];

    expect(names([...tools].reverse())).toEqual(names(tools));
    expect(names(tools)).toEqual(['alpha', 'a__same', 'b__same', 'zeta']);
  });

  it('always produces a valid name, even from an empty one', () => {
    expect(names([{ server: 's', name: '' }])).toEqual(['_']);
  });
});
