/** The security scheme every `/api` operation requires in the API document. */
export const BEARER_AUTH = 'bearer';
/** Set by `@Public()`; the document says `security: []` there instead. */
export const PUBLIC_OPERATION_EXTENSION = 'x-public';
