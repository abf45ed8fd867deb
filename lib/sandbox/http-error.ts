/**
 * An error the sandbox answers with, in Twenty's REST error shape `{statusCode, error, messages}`.
 * Messages name fields and rules, never record values: sandbox logs and dumps end up in CI output.
 */
export class SandboxHttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    error: string,
    message: string,
    extra: Record<string, unknown> = {},
    headers = {},
  ) {
    super(message);
    this.name = 'SandboxHttpError';
    this.status = status;
    this.body = { statusCode: status, error, messages: [message], ...extra };
    this.headers = headers;
  }
}

/** 400 as Twenty's NestJS layer words it. */
export function badRequest(message: string, code?: string): SandboxHttpError {
  return new SandboxHttpError(400, 'BadRequestException', message, code === undefined ? {} : { code });
}

/** 404 for a missing record, object or route. */
export function notFound(message: string): SandboxHttpError {
  return new SandboxHttpError(404, 'NotFoundException', message);
}

/** 403 exactly as Twenty's REST guard answers a missing or wrong API key. */
export function forbidden(): SandboxHttpError {
  return new SandboxHttpError(403, 'Forbidden', 'Forbidden resource');
}
