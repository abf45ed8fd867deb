import { badRequest, SandboxHttpError } from './http-error.ts';

/** A request as the engine sees it: transport-free, so unit tests need no sockets. */
export interface SandboxRequest {
  readonly method: string;
  /** Path plus query string, e.g. `/rest/people?limit=5`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: Uint8Array;
  /** The transport already refused the body for its size. */
  readonly bodyTooLarge?: boolean;
  /** `http://host:port`, used to build file URLs. */
  readonly origin?: string;
}

/** What to answer; `reset` asks the transport to drop the connection, `delayMs` to stall first. */
export interface SandboxResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly raw?: Uint8Array;
  readonly reset?: boolean;
  readonly delayMs?: number;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body };
}

/** A thrown {@link SandboxHttpError} as its response; anything else as Twenty's 500 shape. */
export function errorResponse(error: unknown): SandboxResponse {
  if (error instanceof SandboxHttpError) return json(error.status, error.body, error.headers);
  return json(500, {
    statusCode: 500,
    error: 'InternalServerErrorException',
    messages: ['Internal server error'],
  });
}

/** The JSON body, `undefined` when empty; 413 when the transport refused its size, 400 when malformed. */
export function parseJsonBody(request: SandboxRequest): unknown {
  if (request.bodyTooLarge) {
    throw new SandboxHttpError(413, 'PayloadTooLargeError', 'request entity too large');
  }
  const bytes = request.body;
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw badRequest('Malformed JSON body');
  }
}
