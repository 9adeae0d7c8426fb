import type { McpServerDefinition } from './mcp-server-definition';

const REDACTED = '[redacted]';
/** Shorter configured values (`1`, `true`, `en`) are settings rather than secrets, and too common to strike. */
const MIN_SECRET_LENGTH = 6;
const PLACEHOLDER = /\{\{.*?\}\}/g;
const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g;

/** Strikes configured secrets and JWTs from a message before it is logged or shown: errors may echo them. */
export function secretRedactor(definition: McpServerDefinition): (text: string) => string {
  const secrets = [...configuredValues(definition)]
    .filter((value) => value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  return (text) =>
    secrets.reduce((redacted, secret) => redacted.split(secret).join(REDACTED), text).replace(JWT, REDACTED);
}

function configuredValues(definition: McpServerDefinition): Set<string> {
  const values = new Set<string>();
  const transport = definition.transport;
  if (transport.type === 'stdio') {
    for (const value of Object.values(transport.env ?? {})) values.add(value);
  }
  if (transport.type === 'http') {
    for (const template of Object.values(transport.headers ?? {})) {
      for (const literal of template.split(PLACEHOLDER)) {
        // `Bearer sk-…` may come back as just `sk-…`.
        for (const value of [literal, ...literal.split(/\s+/)]) values.add(value.trim());
      }
    }
    const url = new URL(transport.url);
    values.add(decodeURIComponent(url.username)).add(decodeURIComponent(url.password));
    for (const value of url.searchParams.values()) values.add(value);
  }
  return values;
}
