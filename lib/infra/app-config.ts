import { z } from 'zod';

/**
 * Deployment options read from CDK context (`cdk.json` or `-c key=value`), parsed once with zod so
 * a typo fails the synth naming the key rather than deploying a different pipeline.
 */
export const FerryContextSchema = z.object({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]*$/)
    .default('Ferry'),
  twentySecretArn: z.string().startsWith('arn:').optional(),
  deltaSchedule: z
    .string()
    .regex(/^(cron|rate)\(.+\)$/)
    .optional(),
  deltaFolder: z
    .string()
    .regex(/^drop\/[^/]+\/$/)
    .optional(),
  /** The cutover window the delta schedule runs in: ISO-8601 instants, e.g. 2026-12-05T00:00:00Z. */
  deltaWindowStart: z.iso.datetime().optional(),
  deltaWindowEnd: z.iso.datetime().optional(),
  alarmEmail: z.email().optional(),
  reservedConcurrency: z.coerce.number().int().min(1).optional(),
  ratePreset: z.string().min(1).optional(),
  batchMax: z.coerce.number().int().min(1).max(200).optional(),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).optional(),
});

export type FerryContext = z.infer<typeof FerryContextSchema>;

/** Parses the context values Ferry knows; throws one sentence naming every bad key (never its value). */
export function parseFerryContext(read: (key: string) => unknown): FerryContext {
  const keys = Object.keys(FerryContextSchema.shape) as Array<keyof FerryContext>;
  const raw = Object.fromEntries(
    keys.map((key) => [key, read(key)]).filter(([, value]) => value !== undefined),
  );
  const parsed = FerryContextSchema.safeParse(raw);
  if (!parsed.success) {
    const bad = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))].join(', ');
    throw new Error(`Ferry CDK context is invalid: check ${bad}`);
  }
  return parsed.data;
}
