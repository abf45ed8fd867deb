import { z } from 'zod';

/**
 * The environment every Lambda stage reads, parsed once at module load (STYLE.md: fail fast,
 * naming the key). `lib/infra` sets exactly these names in the same call that grants the access;
 * the local runtime builds the same object from its own servers.
 */
export const StageEnvSchema = z.object({
  FERRY_DROP_BUCKET: z.string().min(1),
  FERRY_WORK_BUCKET: z.string().min(1),
  FERRY_RUNS_TABLE: z.string().min(1),
  FERRY_LEDGER_TABLE: z.string().min(1),
  FERRY_RATE_LIMIT_TABLE: z.string().min(1),
  /** Secrets Manager secret holding `{"url": "...", "apiKey": "..."}`; read at run time, never copied. */
  FERRY_TWENTY_SECRET_ARN: z.string().min(1),
  FERRY_RATE_PRESET: z.string().default('cloud'),
  /**
   * Upper bound on records per batch request. The default is Twenty's QUERY_MAX_RECORDS (200), the
   * largest batch a workspace accepts, as the CLI sends: a workspace configured lower names its cap
   * in a 400, and the client lowers to it and remembers it per workspace beside the rate bucket.
   */
  FERRY_BATCH_MAX: z.coerce.number().int().min(1).max(200).default(200),
  FERRY_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});

export type StageEnv = z.infer<typeof StageEnvSchema>;

/** Parses an environment, throwing one sentence that names every missing or bad key. */
export function parseStageEnv(env: Record<string, string | undefined>): StageEnv {
  const parsed = StageEnvSchema.safeParse(env);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`Ferry stage configuration is invalid: check ${keys}`);
  }
  return parsed.data;
}
