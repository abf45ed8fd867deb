import { z } from 'zod';
import type { PlanAttachment, PlanFile, PlanIssue } from './plan.ts';

/**
 * `ferry.json`'s optional `files`: what the exporting system says it wrote, per file name of the
 * drop folder — its size in bytes and, optionally, its SHA-256. An upload cut off on the way (a 2 GB
 * export that arrived as 40 MB) still parses as CSV: its last row is merely short, and the rows
 * that never arrived would be lost without a word. With the manifest, Inventory compares.
 */
export const AnnouncedFilesSchema = z.record(
  z.string().min(1),
  z.strictObject({
    bytes: z.number().int().nonnegative(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
  }),
);
export type AnnouncedFiles = z.infer<typeof AnnouncedFilesSchema>;

/**
 * The plan errors of files that are not what `ferry.json` announced: missing, a different size
 * (truncated or grown), or different bytes. Names, sizes and hashes only — never content.
 */
export function announcedFileIssues(
  announced: AnnouncedFiles,
  arrived: readonly Pick<PlanFile | PlanAttachment, 'name' | 'bytes' | 'sha256'>[],
  unreadable: ReadonlySet<string> = new Set(),
): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const byName = new Map(arrived.map((f) => [f.name, f]));
  for (const [name, want] of Object.entries(announced)) {
    const got = byName.get(name);
    if (got === undefined) {
      if (unreadable.has(name)) continue; // already a plan error of its own
      issues.push({
        code: 'ANNOUNCED_FILE_MISSING',
        file: name,
        message: `${name} is announced in ferry.json but is not in the drop folder; upload it`,
      });
    } else if (got.bytes !== want.bytes) {
      issues.push({
        code: got.bytes < want.bytes ? 'FILE_TRUNCATED' : 'FILE_SIZE_MISMATCH',
        file: name,
        message:
          `${name} holds ${got.bytes} bytes but ferry.json announced ${want.bytes}` +
          (got.bytes < want.bytes ? ': the upload is incomplete, upload the file again' : ''),
      });
    } else if (want.sha256 !== undefined && want.sha256.toLowerCase() !== got.sha256) {
      issues.push({
        code: 'FILE_HASH_MISMATCH',
        file: name,
        message: `${name} does not have the SHA-256 ferry.json announced: it changed or was damaged on the way`,
      });
    }
  }
  return issues;
}
