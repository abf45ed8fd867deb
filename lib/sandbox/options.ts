import { z } from 'zod';
import { ConfigError } from '../../lambdas/core/errors.ts';

/** A rate-limit window: at most `limit` requests per `windowMs`, as Twenty's throttler counts them. */
export interface RateWindow {
  readonly limit: number;
  readonly windowMs: number;
}

/** One injected failure mode and the probability that a request suffers it. */
export interface FaultRule {
  readonly kind: '429' | '500' | '503' | 'reset' | 'slow';
  readonly probability: number;
  /** Delay for `slow` faults. */
  readonly delayMs?: number;
}

/** A workspace member seeded at start (members are invited in Twenty, never created over REST). */
export interface SandboxMember {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
}

/** How the sandbox behaves; defaults mirror a self-hosted Twenty 2.x. */
export interface SandboxOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  flavor?: 'v1' | 'v2';
  dataDir?: string;
  batchMax?: number;
  rateShort?: RateWindow | null;
  rateLong?: RateWindow | null;
  faults?: string;
  seed?: number;
  members?: SandboxMember[];
  maxUploadBytes?: number;
}

/** Options with every default applied, as the engine uses them. */
export interface ResolvedSandboxOptions {
  readonly host: string;
  readonly port: number;
  readonly apiKey: string;
  readonly flavor: 'v1' | 'v2';
  readonly dataDir: string | undefined;
  readonly batchMax: number;
  readonly rateShort: RateWindow | null;
  readonly rateLong: RateWindow | null;
  readonly faults: readonly FaultRule[];
  readonly seed: number;
  readonly members: readonly SandboxMember[];
  readonly maxUploadBytes: number;
  /** Largest JSON request body accepted (bigger → 413, as Twenty's body parser answers). */
  readonly maxBodyBytes: number;
}

/** Twenty's self-hosted defaults: 100 requests per second and 100 per minute. */
export const DEFAULT_RATE_SHORT: RateWindow = { limit: 100, windowMs: 1000 };
export const DEFAULT_RATE_LONG: RateWindow = { limit: 100, windowMs: 60_000 };
/** The sandbox's well-known development key: it is not a secret, the sandbox only binds locally. */
export const DEFAULT_SANDBOX_API_KEY = 'sandbox-api-key';

const memberSchema = z.object({
  email: z.string().min(3),
  firstName: z.string(),
  lastName: z.string(),
});

/** Members file / option shape, validated at the edge. */
export const sandboxMembersSchema = z.array(memberSchema);

/**
 * Parses `N/MS` (e.g. `100/1000`) into a rate window; `off`/`none` disables the window. The CLI
 * and tests share it so an operator's flag and a test's option mean the same thing.
 */
export function parseRate(spec: string): RateWindow | null {
  const trimmed = spec.trim();
  if (trimmed === 'off' || trimmed === 'none') return null;
  const match = /^(\d+)\/(\d+)$/.exec(trimmed);
  if (!match) throw new ConfigError('rate: expected N/MS (e.g. 100/1000) or "off"');
  const limit = Number(match[1]);
  const windowMs = Number(match[2]);
  if (limit < 1 || windowMs < 1) throw new ConfigError('rate: limit and window must be positive integers');
  return { limit, windowMs };
}

/**
 * Parses a fault spec such as `429:0.05,500:0.03,503:0.02,reset:0.01,slow:0.01@3000`. Probabilities
 * are per request and must sum to at most 1 so one random draw decides the request's fate.
 */
export function parseFaultSpec(spec: string | undefined): FaultRule[] {
  if (spec === undefined || spec.trim() === '' || spec.trim() === 'none') return [];
  const rules: FaultRule[] = [];
  for (const part of spec.split(',')) {
    const match = /^(429|500|503|reset|slow):(\d*\.?\d+)(?:@(\d+))?$/.exec(part.trim());
    if (!match)
      throw new ConfigError('faults: each entry must be KIND:PROBABILITY (KIND 429|500|503|reset|slow)');
    const kind = match[1] as FaultRule['kind'];
    const probability = Number(match[2]);
    if (!(probability >= 0 && probability <= 1))
      throw new ConfigError('faults: probability must be within 0..1');
    if (kind !== 'slow' && match[3] !== undefined) throw new ConfigError('faults: only slow takes @MS');
    rules.push(
      kind === 'slow' ? { kind, probability, delayMs: Number(match[3] ?? 3000) } : { kind, probability },
    );
  }
  const total = rules.reduce((sum, rule) => sum + rule.probability, 0);
  if (total > 1 + 1e-9) throw new ConfigError('faults: probabilities must sum to at most 1');
  return rules;
}

/** Applies defaults and validates the numeric options. */
export function resolveSandboxOptions(options: SandboxOptions = {}): ResolvedSandboxOptions {
  const batchMax = options.batchMax ?? 200;
  if (!Number.isInteger(batchMax) || batchMax < 1)
    throw new ConfigError('batchMax must be a positive integer');
  const members = sandboxMembersSchema.safeParse(options.members ?? []);
  if (!members.success) throw new ConfigError('members: each member needs email, firstName and lastName');
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    apiKey: options.apiKey ?? DEFAULT_SANDBOX_API_KEY,
    flavor: options.flavor ?? 'v2',
    dataDir: options.dataDir,
    batchMax,
    rateShort: options.rateShort === undefined ? DEFAULT_RATE_SHORT : options.rateShort,
    rateLong: options.rateLong === undefined ? DEFAULT_RATE_LONG : options.rateLong,
    faults: parseFaultSpec(options.faults),
    seed: options.seed ?? 1,
    members: members.data,
    maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024,
    maxBodyBytes: 10 * 1024 * 1024,
  };
}
