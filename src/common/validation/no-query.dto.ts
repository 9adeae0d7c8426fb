/**
 * The query of a route that takes no query parameters: with the strict pipe, any parameter sent is
 * a 400 naming it, rather than silently ignored.
 */
export class NoQueryDto {}
