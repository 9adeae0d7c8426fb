export const HEADER_PLACEHOLDERS = ['user_id', 'user_token'] as const;
export type HeaderPlaceholder = (typeof HEADER_PLACEHOLDERS)[number];

/** Who a templated header speaks for; the token is signed only if a header uses it. */
export interface HeaderIdentity {
  userId: string;
  userToken: () => string;
}

const PLACEHOLDER = /\{\{(.*?)\}\}/g;
/** RFC 9110 field-value characters: CR/LF would start a forged header; above U+00FF cannot be sent. */
const UNSAFE_FIELD_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** A templated value that would be unsafe in a header; names the header and placeholder, never the value. */
export class HeaderValueError extends Error {
  constructor(
    readonly header: string,
    readonly placeholder: HeaderPlaceholder,
  ) {
    super(`header ${header}: {{${placeholder}}} holds a line break or another character a header cannot carry`);
    this.name = 'HeaderValueError';
  }
}

export function placeholdersIn(value: string): string[] {
  return [...value.matchAll(PLACEHOLDER)].map((match) => match[1].trim());
}

export function isHeaderPlaceholder(name: string): name is HeaderPlaceholder {
  return (HEADER_PLACEHOLDERS as readonly string[]).includes(name);
}

export function hasUnsafeHeaderChars(value: string): boolean {
  return UNSAFE_FIELD_CHAR.test(value);
}

/** Whether any value depends on who calls, so the server needs one connection per user. */
export function isTemplated(headers: Record<string, string> | undefined): boolean {
  return Object.values(headers ?? {}).some((value) => placeholdersIn(value).length > 0);
}

export function usesPlaceholder(headers: Record<string, string> | undefined, placeholder: HeaderPlaceholder): boolean {
  return Object.values(headers ?? {}).some((value) => placeholdersIn(value).includes(placeholder));
}

/** Throws {@link HeaderValueError} rather than send a rendered value that could split the header. */
export function renderHeaders(headers: Record<string, string>, identity: HeaderIdentity): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [header, template] of Object.entries(headers)) {
    rendered[header] = template.replace(PLACEHOLDER, (_match, inner: string) => {
      const name = inner.trim();
      if (!isHeaderPlaceholder(name)) throw new Error(`header ${header}: unknown placeholder {{${name}}}`);
      const value = name === 'user_id' ? identity.userId : identity.userToken();
      if (hasUnsafeHeaderChars(value)) throw new HeaderValueError(header, name);
      return value;
    });
  }
  return rendered;
}
