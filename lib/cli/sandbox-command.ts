import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import {
  parseRate,
  type RunningSandbox,
  type SandboxOptions,
  sandboxMembersSchema,
  startSandbox,
} from '../sandbox/index.ts';
import { flavorOption } from './common.ts';

/** Raw flag values as commander hands them over. */
export interface SandboxFlags {
  host?: string;
  port?: string;
  apiKey?: string;
  flavor?: string;
  data?: string;
  memory?: boolean;
  batchMax?: string;
  rateShort?: string;
  rateLong?: string;
  faults?: string;
  seed?: string;
  members?: string;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${flag} must be a non-negative integer`);
  return Number(value);
}

/**
 * Turns CLI flags into sandbox options (pure, so it is unit-testable). Persisted under
 * `.ferry/sandbox` by default so a demo survives restarts; `--memory` keeps nothing.
 */
export function sandboxOptionsFromFlags(flags: SandboxFlags): SandboxOptions {
  if (flags.data !== undefined && flags.memory)
    throw new ConfigError('--data and --memory are mutually exclusive');
  const flavor = flags.flavor === undefined ? 'v2' : flavorOption(flags.flavor);
  let members: SandboxOptions['members'];
  if (flags.members !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(flags.members, 'utf8'));
    } catch {
      throw new ConfigError('--members: file is missing or is not JSON');
    }
    const result = sandboxMembersSchema.safeParse(parsed);
    if (!result.success)
      throw new ConfigError('--members: expected a JSON array of {email, firstName, lastName}');
    members = result.data;
  }
  return {
    host: flags.host ?? '127.0.0.1',
    port: integer(flags.port, '--port') ?? 0,
    ...(flags.apiKey === undefined ? {} : { apiKey: flags.apiKey }),
    flavor,
    ...(flags.memory ? {} : { dataDir: flags.data ?? '.ferry/sandbox' }),
    ...(flags.batchMax === undefined ? {} : { batchMax: integer(flags.batchMax, '--batch-max') }),
    ...(flags.rateShort === undefined ? {} : { rateShort: parseRate(flags.rateShort) }),
    ...(flags.rateLong === undefined ? {} : { rateLong: parseRate(flags.rateLong) }),
    ...(flags.faults === undefined ? {} : { faults: flags.faults }),
    ...(flags.seed === undefined ? {} : { seed: integer(flags.seed, '--seed') }),
    ...(members === undefined ? {} : { members }),
  };
}

/**
 * `ferry sandbox`: starts the local Twenty double, prints its URL and API key, and stops cleanly on
 * SIGINT/SIGTERM (closing the database so a persisted demo is consistent on the next start).
 */
export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description(
      'start the local Twenty sandbox (REST + metadata API; 127.0.0.1 unless --host) and print its URL and API key',
    )
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <n>', 'port (0 = random)', '0')
    .option('--api-key <key>', 'API key clients must send as Bearer token (default: sandbox-api-key)')
    .option('--flavor <v1|v2>', 'Twenty major version to emulate', 'v2')
    .option('--data <dir>', 'persist the workspace in this directory (default .ferry/sandbox)')
    .option('--memory', 'keep everything in memory')
    .option(
      '--batch-max <n>',
      "largest batch the sandbox accepts (default 200, Twenty's QUERY_MAX_RECORDS; 60 = older Twenty and the Cloud docs)",
    )
    .option(
      '--rate-short <N/MS>',
      'short rate window, e.g. 100/1000, or off (default 100/1000, as a self-hosted Twenty)',
    )
    .option(
      '--rate-long <N/MS>',
      'long rate window, e.g. 100/60000, or off (default 100/60000, as a self-hosted Twenty)',
    )
    .option('--faults <spec>', 'fault injection, e.g. 429:0.05,500:0.03,503:0.02,reset:0.01,slow:0.01@3000')
    .option('--seed <n>', 'seed for reproducible faults')
    .option('--members <file>', 'JSON array of workspace members {email, firstName, lastName}')
    .action(async (flags: SandboxFlags) => {
      const sandbox: RunningSandbox = await startSandbox(sandboxOptionsFromFlags(flags));
      process.stdout.write(
        `Twenty sandbox listening\n  URL:     ${sandbox.url}\n  API key: ${sandbox.apiKey}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void sandbox.stop().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write('Twenty sandbox stopped\n');
    });
}
