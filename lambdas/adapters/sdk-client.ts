/** What {@link withoutSdkLogging} needs of an AWS SDK v3 client. */
interface SdkClient {
  readonly middlewareStack: { remove(toRemove: string): boolean };
}

/**
 * Takes the SDK's logger middleware off a client. Ferry gives its SDK clients no logger (its own
 * logs carry ids and counts, never a payload), yet the middleware still runs the schema's
 * sensitive-data filter over every request's input and every response's output before handing
 * them to the no-op logger: for a BatchWriteItem of 25 ledger entries that walk costs more CPU than
 * serialising the request. Nothing is logged with or without it.
 */
export function withoutSdkLogging<T extends SdkClient>(client: T): T {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
