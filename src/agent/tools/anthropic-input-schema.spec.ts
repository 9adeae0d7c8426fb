import { toAnthropicInputSchema } from './anthropic-input-schema';

describe(toAnthropicInputSchema.name, () => {
  it('keeps an object schema as it is: required, additionalProperties and nested schemas', () => {
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 1, maxLength: 200 },
        tags: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } },
      },
      required: ['title'],
      additionalProperties: false,
      $schema: 'http://json-schema.org/draft-07/schema#',
    };

    expect(toAnthropicInputSchema(schema)).toEqual({ inputSchema: schema });
  });

  it('adds empty properties when the schema has none', () => {
    expect(toAnthropicInputSchema({ type: 'object' })).toEqual({ inputSchema: { type: 'object', properties: {} } });
  });

  it("sets type 'object' at the top", () => {
    expect(toAnthropicInputSchema({ properties: { a: { type: 'string' } } }).inputSchema).toEqual({
      properties: { a: { type: 'string' } },
      type: 'object',
    });
  });

  it('merges a top-level oneOf into one permissive object and puts the lost constraint into words', () => {
    const { inputSchema, lostConstraint } = toAnthropicInputSchema({
      type: 'object',
      properties: { verbose: { type: 'boolean' } },
      oneOf: [
        { properties: { id: { type: 'integer' }, kind: { const: 'id' } }, required: ['id', 'kind'] },
        { properties: { name: { type: 'string' }, kind: { const: 'name' } }, required: ['name', 'kind'] },
      ],
    });

    expect(inputSchema).toEqual({
      type: 'object',
      properties: {
        verbose: { type: 'boolean' },
        id: { type: 'integer' },
        kind: { anyOf: [{ const: 'id' }, { const: 'name' }] },
        name: { type: 'string' },
      },
      required: ['kind'],
    });
    expect(lostConstraint).toBe(
      'The input must also match exactly one of {id, kind} | {name, kind} (checked by the tool, not shown in its schema).',
    );
  });

  it('requires everything an allOf variant requires', () => {
    const { inputSchema, lostConstraint } = toAnthropicInputSchema({
      type: 'object',
      allOf: [
        { properties: { a: { type: 'string' } }, required: ['a'] },
        { properties: { b: { type: 'string' } }, required: ['b'] },
      ],
      required: ['c'],
      properties: { c: { type: 'number' } },
    });

    expect(inputSchema).toEqual({
      type: 'object',
      required: ['c', 'a', 'b'],
      properties: { c: { type: 'number' }, a: { type: 'string' }, b: { type: 'string' } },
    });
    expect(lostConstraint).toContain('all of {a} & {b}');
  });

  it('drops a top-level anyOf whose variants declare no properties, keeping the schema permissive', () => {
    const { inputSchema, lostConstraint } = toAnthropicInputSchema({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' } },
      anyOf: [{ required: ['a'] }, { required: ['b'] }],
    });

    expect(inputSchema).toEqual({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } });
    expect(lostConstraint).toContain('at least one of {a} | {b}');
  });

  it('never changes the schema it was given', () => {
    const schema = { type: 'object', properties: {}, oneOf: [{ properties: { a: {} }, required: ['a'] }] };
    const copy = structuredClone(schema);

    toAnthropicInputSchema(schema);

    expect(schema).toEqual(copy);
  });
});
