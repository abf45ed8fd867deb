/**
 * Ferry's error families, as the core names them. They are defined on the port side
 * (`lambdas/ports/errors.ts`) because adapters and the Twenty HTTP client throw them too and must not
 * import the core; the core keeps importing them from here.
 */
export * from '../ports/errors.ts';
