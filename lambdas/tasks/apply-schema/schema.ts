import { z } from 'zod';

/** ApplySchema's payload: the run and its plan key (the mapping and chunks are read from S3). */
export const ApplySchemaInputSchema = z.object({
  runId: z.string().min(1),
  planKey: z.string().min(1),
});
export type ApplySchemaInput = z.infer<typeof ApplySchemaInputSchema>;

/** Counts only (a Step Functions payload); the details are in `runs/<runId>/schema-changes.json`. */
export const ApplySchemaOutputSchema = z.object({
  runId: z.string(),
  objectsCreated: z.number().int().nonnegative(),
  fieldsCreated: z.number().int().nonnegative(),
  optionsAdded: z.number().int().nonnegative(),
  relationsCreated: z.number().int().nonnegative(),
});
export type ApplySchemaOutput = z.infer<typeof ApplySchemaOutputSchema>;
