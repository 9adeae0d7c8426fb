import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../config/app-config';
import type { ApprovalRequirement } from './mcp-server-definition';
import { HEADER_PLACEHOLDERS, hasUnsafeHeaderChars, isHeaderPlaceholder, placeholdersIn } from './header-template';

const MCP_SERVER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the MCP transport itself; a configured value would break the protocol or the session. */
const RESERVED_HEADERS = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'host',
  'last-event-id',
  'mcp-protocol-version',
  'mcp-session-id',
  'transfer-encoding',
]);

interface McpServerConfigBase {
  name: string;
  enabled: boolean;
  timeoutMs?: number;
  allowedTools?: string[];
  requireApproval: ApprovalRequirement;
}

export type McpServerConfig = McpServerConfigBase &
  (
    | { kind: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd: string }
    | { kind: 'http'; url: string; headers: Record<string, string> }
    | { kind: 'builtin'; builtin: string }
  );

export interface McpConfigOptions {
  builtinNames: readonly string[];
  /** False when only JWT_JWKS_URL is set: the service holds no key to sign `{{user_token}}`. */
  canSignTokens: boolean;
}

const requireApprovalSchema = z
  .union(
    [
      z.enum(['never', 'always']),
      z.strictObject({
        // A tool the server does not list (yet) is fine: it may come with a later version of the server.
        tools: z.array(z.string().min(1, 'must not be empty')).min(1, 'must name at least one tool'),
      }),
    ],
    'must be "never", "always" or { "tools": ["<tool>", …] }',
  )
  .default('never');

const common = {
  timeout_ms: z.number().int().min(100).max(600_000).optional(),
  allowed_tools: z.array(z.string().min(1)).optional(),
  enabled: z.boolean().default(true),
  require_approval: requireApprovalSchema,
};

const stringMap = (check: (key: string, value: string, ctx: z.RefinementCtx) => void) =>
  z.record(z.string(), z.string()).superRefine((map, ctx) => {
    for (const [key, value] of Object.entries(map)) check(key, value, ctx);
  });

const stdioSchema = z.strictObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1, 'must not be empty'),
  args: z.array(z.string()).optional(),
  env: stringMap((key, _value, ctx) => {
    if (!ENV_NAME.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'not a valid variable name' });
  }).optional(),
  cwd: z.string().min(1, 'must not be empty').optional(),
  ...common,
});

function httpSchema(options: McpConfigOptions) {
  return z.strictObject({
    type: z.enum(['http', 'streamable-http'], 'only Streamable HTTP is supported: "http"').optional(),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    headers: stringMap((key, value, ctx) => {
      for (const message of headerProblems(key, value, options)) ctx.addIssue({ code: 'custom', path: [key], message });
    }).optional(),
    ...common,
  });
}

function builtinSchema(options: McpConfigOptions) {
  const available = options.builtinNames.length > 0 ? options.builtinNames.join(', ') : 'none';
  return z.strictObject({
    builtin: z
      .string()
      .refine((name) => options.builtinNames.includes(name), `unknown built-in server (available: ${available})`),
    ...common,
  });
}

const fileSchema = z.strictObject({ mcpServers: z.record(z.string(), z.unknown()) });

/** Reads and validates the `mcpServers` file once at boot; every problem is reported in one ConfigError. */
export function loadMcpConfig(path: string, options: McpConfigOptions): McpServerConfig[] {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError([`MCP_CONFIG: cannot read ${file} (${reason})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`MCP_CONFIG: ${file} is not valid JSON (${(error as Error).message})`]);
  }
  return parseMcpConfig(json, dirname(file), options);
}

export function parseMcpConfig(json: unknown, baseDir: string, options: McpConfigOptions): McpServerConfig[] {
  const file = fileSchema.safeParse(json);
  if (!file.success) throw new ConfigError(file.error.issues.flatMap((issue) => describeIssue([], issue)));

  const problems: string[] = [];
  const servers: McpServerConfig[] = [];
  for (const [name, entry] of Object.entries(file.data.mcpServers)) {
    const path = ['mcpServers', name];
    if (!MCP_SERVER_NAME.test(name)) {
      problems.push(`${formatPath(path)}: a server name must match ${MCP_SERVER_NAME.source}`);
    }
    const parsed = parseServer(path, entry, baseDir, options);
    if ('problems' in parsed) problems.push(...parsed.problems);
    else servers.push(parsed.server);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return servers;
}

type ParsedServer = { server: McpServerConfig } | { problems: string[] };

function parseServer(path: string[], entry: unknown, baseDir: string, options: McpConfigOptions): ParsedServer {
  const name = path[path.length - 1];
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { problems: [`${formatPath(path)}: must be an object with command, url or builtin`] };
  }
  const kinds = (['command', 'url', 'builtin'] as const).filter((key) => key in entry);
  if (kinds.length !== 1) {
    const problem =
      kinds.length === 0
        ? 'needs one of command (stdio), url (Streamable HTTP) or builtin'
        : `set only one of ${kinds.join(', ')}`;
    return { problems: [`${formatPath(path)}: ${problem}`] };
  }
  const problemsOf = (issues: z.core.$ZodIssue[]) => ({
    problems: issues.flatMap((issue) => describeIssue(path, issue)),
  });
  switch (kinds[0]) {
    case 'command': {
      const result = stdioSchema.safeParse(entry);
      if (!result.success) return problemsOf(result.error.issues);
      const { command, args = [], env = {}, cwd } = result.data;
      return {
        server: {
          ...base(name, result.data),
          kind: 'stdio',
          // A bare name (`npx`) is looked up on PATH; a relative path is the config file's neighbour.
          command: /[\\/]/.test(command) && !isAbsolute(command) ? resolve(baseDir, command) : command,
          args,
          env,
          cwd: resolve(baseDir, cwd ?? '.'),
        },
      };
    }
    case 'url': {
      const result = httpSchema(options).safeParse(entry);
      if (!result.success) return problemsOf(result.error.issues);
      return {
        server: { ...base(name, result.data), kind: 'http', url: result.data.url, headers: result.data.headers ?? {} },
      };
    }
    case 'builtin': {
      const result = builtinSchema(options).safeParse(entry);
      if (!result.success) return problemsOf(result.error.issues);
      return { server: { ...base(name, result.data), kind: 'builtin', builtin: result.data.builtin } };
    }
  }
}

function base(
  name: string,
  data: { enabled: boolean; timeout_ms?: number; allowed_tools?: string[]; require_approval: ApprovalRequirement },
): McpServerConfigBase {
  return {
    name,
    enabled: data.enabled,
    ...(data.timeout_ms !== undefined && { timeoutMs: data.timeout_ms }),
    ...(data.allowed_tools !== undefined && { allowedTools: data.allowed_tools }),
    requireApproval: data.require_approval,
  };
}

function headerProblems(name: string, value: string, options: McpConfigOptions): string[] {
  const problems: string[] = [];
  if (!HEADER_NAME.test(name)) problems.push('not a valid header name');
  else if (RESERVED_HEADERS.has(name.toLowerCase())) problems.push('set by the MCP transport; it cannot be configured');
  if (hasUnsafeHeaderChars(value)) problems.push('must not contain line breaks or other control characters');
  const allowed = HEADER_PLACEHOLDERS.map((placeholder) => `{{${placeholder}}}`).join(' or ');
  for (const placeholder of placeholdersIn(value)) {
    if (!isHeaderPlaceholder(placeholder)) problems.push(`unknown placeholder {{${placeholder}}}: use ${allowed}`);
    else if (placeholder === 'user_token' && !options.canSignTokens) {
      problems.push('{{user_token}} needs JWT_SECRET: with JWT_JWKS_URL alone the service cannot sign tokens');
    }
  }
  return problems;
}

function describeIssue(prefix: PropertyKey[], issue: z.core.$ZodIssue): string[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...path, key])}: unknown key`);
  }
  if (issue.code === 'invalid_union') {
    // The one alternative whose outer shape the value has says best what is wrong inside it.
    const shaped = issue.errors.filter((issues) => issues.some((inner) => inner.path.length > 0));
    if (shaped.length === 1) return shaped[0].flatMap((inner) => describeIssue(path, inner));
  }
  return [`${formatPath(path)}: ${issue.message}`];
}

/** `mcpServers.github.args[0]`; a key that is not a plain word is quoted: `headers["x y"]`. */
function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return 'MCP_CONFIG';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (/^[A-Za-z0-9_$-]+$/.test(key)) return index === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join('');
}
