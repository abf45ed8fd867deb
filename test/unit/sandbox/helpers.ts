import { SandboxEngine } from '../../../lib/sandbox/engine.ts';
import { resolveSandboxOptions, type SandboxOptions } from '../../../lib/sandbox/options.ts';

/** A response with its JSON body typed loosely for assertions. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: test helper reads arbitrary JSON shapes
  body: any;
  reset?: boolean;
  delayMs?: number;
}

/** An in-process sandbox engine (no sockets) with a controllable clock. */
export function makeEngine(
  options: SandboxOptions = {},
  clock = { now: Date.parse('2026-01-01T00:00:00Z') },
) {
  const engine = new SandboxEngine(
    resolveSandboxOptions({ rateShort: null, rateLong: null, ...options }),
    () => clock.now,
  );
  const key = options.apiKey ?? 'sandbox-api-key';
  const call = async (
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const answer = await engine.handle({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body:
        body === undefined
          ? undefined
          : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
    });
    return answer as Answer;
  };
  return { engine, call, clock };
}

/** Deterministic synthetic UUIDs for fixtures. */
export function uuid(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}
