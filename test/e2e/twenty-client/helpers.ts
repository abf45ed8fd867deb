import type { Clock } from '../../../lambdas/ports/clock.ts';
import type { TwentyRecord } from '../../../lambdas/ports/twenty.ts';
import { TwentyClient, type TwentyClientOptions } from '../../../lambdas/twenty/client.ts';
import { startSandbox } from '../../../lib/sandbox/index.ts';

export type SandboxOptions = NonNullable<Parameters<typeof startSandbox>[0]>;
export type RunningSandbox = Awaited<ReturnType<typeof startSandbox>>;

/** Deterministic, valid v4-shaped UUIDs so a test can predict every id it writes. */
export function testId(group: number, n: number): string {
  return `${group.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** A synthetic person (never real data). */
export function syntheticPerson(group: number, n: number, extra: Record<string, unknown> = {}): TwentyRecord {
  return {
    id: testId(group, n),
    name: { firstName: `Given${n}`, lastName: `Family${n % 7}` },
    emails: { primaryEmail: `g${group}.p${n}@example.test`, additionalEmails: [] },
    jobTitle: n % 2 === 0 ? 'Even' : 'Odd',
    ...extra,
  };
}

/** A real clock that also records every sleep the client asked for. */
export function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
    },
  };
}

/** Starts a sandbox (no rate limit unless asked) and a client pointed at it. */
export async function sandboxAndClient(
  sandboxOptions: SandboxOptions,
  clientOptions: Partial<TwentyClientOptions> = {},
): Promise<{ sandbox: RunningSandbox; client: TwentyClient }> {
  const sandbox = await startSandbox({ rateShort: null, rateLong: null, ...sandboxOptions });
  const client = new TwentyClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    baseBackoffMs: 20,
    maxBackoffMs: 200,
    timeoutMs: 10_000,
    ...clientOptions,
  });
  return { sandbox, client };
}

/** Every stored row of one object (soft-deleted included), straight from the sandbox's dump. */
export async function dumpRecords(
  sandbox: RunningSandbox,
  objectSingular: string,
): Promise<Array<{ id: string; deletedAt?: unknown } & Record<string, unknown>>> {
  const dump = await sandbox.dump();
  return (dump.records[objectSingular] ?? []) as Array<
    { id: string; deletedAt?: unknown } & Record<string, unknown>
  >;
}
