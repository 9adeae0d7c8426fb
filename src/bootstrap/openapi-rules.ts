import type { OpenAPIObject } from '@nestjs/swagger';

type Schema = Record<string, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
/** Reads as a method name in generated clients: `sendMessage`, not `ChatController_send`. */
const METHOD_NAME = /^[a-z][a-zA-Z0-9]*$/;
const COMPONENT_SCHEMA_REF = '#/components/schemas/';

/** SPEC §10 beyond Redocly and Spectral (docs/openapi.md): one line per violation, none when it passes. */
export function findOpenApiViolations(document: OpenAPIObject): string[] {
  const violations: string[] = [];
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  const operationIds = new Set<string>();

  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const { operationId } = operation;
      if (!operationId || !METHOD_NAME.test(operationId)) {
        violations.push(`${where}: operationId ${JSON.stringify(operationId)} is not a camelCase method name`);
      } else if (operationIds.has(operationId)) {
        violations.push(`${where}: operationId ${operationId} is used twice`);
      }
      if (operationId) operationIds.add(operationId);

      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (!/^2\d\d$/.test(status) || !response || !('content' in response)) continue;
        for (const [mediaType, media] of Object.entries(response.content ?? {})) {
          const found = findBareObjects(media.schema as Schema | undefined, schemas);
          for (const at of found) violations.push(`${where} ${status} ${mediaType}: bare object at ${at}`);
        }
      }
    }
  }
  return violations;
}

/** Paths (from the response body, through `$ref`s) of every schema that is `type: object` and nothing more. */
function findBareObjects(root: Schema | undefined, components: Record<string, Schema>): string[] {
  const found: string[] = [];
  const visited = new Set<string>();

  const walk = (schema: Schema | undefined, at: string): void => {
    if (!schema || typeof schema !== 'object') return;
    const ref = schema.$ref;
    if (typeof ref === 'string') {
      if (visited.has(ref)) return;
      visited.add(ref);
      const name = ref.startsWith(COMPONENT_SCHEMA_REF) ? ref.slice(COMPONENT_SCHEMA_REF.length) : undefined;
      const target = name === undefined ? undefined : components[name];
      if (!target) found.push(`${at} (unresolved ${ref})`);
      else walk(target, name as string);
      return;
    }
    if (isBareObject(schema)) found.push(at);
    for (const [key, value] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
      walk(value, `${at}.${key}`);
    }
    walk(schema.items as Schema | undefined, `${at}[]`);
    if (typeof schema.additionalProperties === 'object') {
      walk(schema.additionalProperties as Schema, `${at}{}`);
    }
    for (const combinator of ['allOf', 'oneOf', 'anyOf'] as const) {
      ((schema[combinator] ?? []) as Schema[]).forEach((member, index) =>
        walk(member, `${at}.${combinator}[${index}]`),
      );
    }
  };

  walk(root, 'body');
  return found;
}

function isBareObject(schema: Schema): boolean {
  return (
    schema.type === 'object' &&
    schema.properties === undefined &&
    schema.additionalProperties === undefined &&
    schema.oneOf === undefined &&
    schema.anyOf === undefined &&
    schema.allOf === undefined
  );
}
