import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { sampleCandidatesKey } from '../run-layout.ts';

/**
 * One line of `sample-candidates.ndjson` (Prepare writes one per load chunk, as it writes the chunk):
 * each record's id and the ids it references (relations' join columns, activity targets: what
 * {@link referencedIds} finds in the mapped line), in chunk order. SampleLoad chooses its sample from
 * these instead of parsing every mapped line of the run.
 */
export const SampleCandidatesLineSchema = z.object({
  chunk: z.string().min(1),
  records: z.array(z.tuple([z.string().min(1), z.array(z.string())]).readonly()),
});
export type SampleCandidatesLine = z.infer<typeof SampleCandidatesLineSchema>;

/**
 * The run's sample candidates by load chunk key; undefined when Prepare wrote none (a run prepared
 * before Prepare wrote them: SampleLoad then reads the chunks themselves).
 */
export async function readSampleCandidates(
  work: ObjectStore,
  runId: string,
): Promise<Map<string, SampleCandidatesLine['records']> | undefined> {
  const key = sampleCandidatesKey(runId);
  let text: string;
  try {
    text = await work.getText(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  const byChunk = new Map<string, SampleCandidatesLine['records']>();
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ValidationError(`${key}: a line is not JSON`);
    }
    const line = SampleCandidatesLineSchema.safeParse(value);
    if (!line.success) throw new ValidationError(`${key}: a line is not {chunk, records}`);
    byChunk.set(line.data.chunk, line.data.records);
  }
  return byChunk;
}
