import type Anthropic from '@anthropic-ai/sdk';

export interface ConvertedInputSchema {
  inputSchema: Anthropic.Messages.Tool.InputSchema;
  lostConstraint?: string;
}

const COMBINATORS = [
  { keyword: 'oneOf', quantifier: 'exactly one of', separator: ' | ' },
  { keyword: 'anyOf', quantifier: 'at least one of', separator: ' | ' },
  { keyword: 'allOf', quantifier: 'all of', separator: ' & ' },
] as const;

type JsonObject = Record<string, unknown>;

/**
 * Anthropic rejects a top-level `oneOf`/`anyOf`/`allOf`: the variants merge into one permissive object schema
 * and the lost constraint is put into words (the MCP server still validates the arguments).
 */
export function toAnthropicInputSchema(schema: JsonObject): ConvertedInputSchema {
  const { oneOf: _oneOf, anyOf: _anyOf, allOf: _allOf, ...rest } = schema;
  const inputSchema: Anthropic.Messages.Tool.InputSchema = {
    ...rest,
    type: 'object',
    properties: { ...propertiesOf(rest) },
  };
  const constraints: string[] = [];
  for (const { keyword, quantifier, separator } of COMBINATORS) {
    const value = schema[keyword];
    if (!Array.isArray(value)) continue;
    const variants = value.filter(isObject);
    mergeVariants(inputSchema, variants, keyword === 'allOf');
    constraints.push(`${quantifier} ${variants.map(describeVariant).join(separator)}`);
  }
  if (constraints.length === 0) return { inputSchema };
  return {
    inputSchema,
    lostConstraint: `The input must also match ${constraints.join('; and ')} (checked by the tool, not shown in its schema).`,
  };
}

function mergeVariants(target: Anthropic.Messages.Tool.InputSchema, variants: JsonObject[], all: boolean): void {
  const properties = target.properties as JsonObject;
  const declared = new Set(Object.keys(properties));
  const alternatives = new Map<string, unknown[]>();
  for (const variant of variants) {
    for (const [name, propertySchema] of Object.entries(propertiesOf(variant))) {
      if (declared.has(name)) continue;
      const seen = alternatives.get(name) ?? [];
      if (!seen.some((schema) => JSON.stringify(schema) === JSON.stringify(propertySchema))) seen.push(propertySchema);
      alternatives.set(name, seen);
    }
  }
  for (const [name, schemas] of alternatives) {
    properties[name] = schemas.length === 1 ? schemas[0] : { [all ? 'allOf' : 'anyOf']: schemas };
  }
  const requiredSets = variants.map(requiredOf);
  const newlyRequired = all
    ? requiredSets.flat()
    : (requiredSets[0] ?? []).filter((name) => requiredSets.every((set) => set.includes(name)));
  const required = [...(target.required ?? [])];
  for (const name of newlyRequired) if (!required.includes(name)) required.push(name);
  if (required.length > 0) target.required = required;
}

function describeVariant(variant: JsonObject): string {
  const required = requiredOf(variant);
  return `{${(required.length > 0 ? required : Object.keys(propertiesOf(variant))).join(', ')}}`;
}

function propertiesOf(schema: JsonObject): JsonObject {
  return isObject(schema.properties) ? schema.properties : {};
}

function requiredOf(schema: JsonObject): string[] {
  return Array.isArray(schema.required) ? schema.required.filter((name) => typeof name === 'string') : [];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
