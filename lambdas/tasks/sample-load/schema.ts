import { z } from 'zod';

/** SampleLoad reads Prepare's artefacts of the run; the options say how large a sample (0 = none). */
export const SampleLoadInputSchema = z.looseObject({
  runId: z.string().min(1),
  sourceInstance: z.string().min(1),
  options: z
    .looseObject({
      /** About how many records the sample holds (`ferry run --sample-size`, default 300; 0 skips it). */
      sampleSize: z.number().int().nonnegative().default(300),
      batchMax: z.number().int().min(1).max(1000).optional(),
    })
    .default({ sampleSize: 300 }),
});
export type SampleLoadInput = z.input<typeof SampleLoadInputSchema>;

/** A tick out of time: the machine waits and calls SampleLoad again, which continues where it was. */
export const SampleLoadContinuationSchema = z.object({
  runId: z.string(),
  done: z.literal(false),
  waitSeconds: z.number().int().nonnegative(),
});

/** Counts and keys only. `skipped`: no sample was asked for (size 0) — the gate is skipped too. */
export const SampleLoadOutputSchema = z.object({
  runId: z.string(),
  done: z.literal(true),
  skipped: z.boolean(),
  records: z.number().int().nonnegative(),
  fields: z.number().int().nonnegative(),
  matched: z.number().int().nonnegative(),
  mismatched: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  diffKey: z.string().optional(),
  htmlKey: z.string().optional(),
});
export type SampleLoadOutput = z.infer<typeof SampleLoadOutputSchema>;
export type SampleLoadContinuation = z.infer<typeof SampleLoadContinuationSchema>;
