import { z } from 'zod';
import type { UploadedFile } from '../../ports/twenty.ts';
import type { TwentyModel } from '../../ports/twenty-model.ts';

/**
 * An upload as LoadChunk records it in the chunk's load intent: what Twenty returned for the file
 * (its path, and its id on v2), enough to link the attachment record without uploading again.
 */
export const UploadedFileSchema = z.object({
  path: z.string().min(1),
  fileId: z.string().min(1).optional(),
});

/** Twenty's own upload limit on self-hosted and Cloud workspaces (10 MB), Ferry's default cap. */
export const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * The attachment record's columns that point at an uploaded file, per workspace generation:
 * v1 keeps the upload's path in `fullPath`; v2 links the upload into the attachment's FILES field
 * (`[{fileId, label}]`) and still has a `fullPath` text column, which gets the path too so both
 * generations can be read back the same way.
 */
export function fileColumns(
  model: TwentyModel,
  uploaded: UploadedFile,
  name: string,
): Record<string, unknown> {
  const attachment = model.find('attachment');
  const columns: Record<string, unknown> = {};
  const hasFullPath = attachment?.fields.some((field) => field.name === 'fullPath') ?? false;
  if (model.flavor === 'v1' || hasFullPath) columns.fullPath = uploaded.path;
  if (model.flavor === 'v2' && uploaded.fileId !== undefined) {
    const filesField = attachment?.fields.find((field) => field.type === 'FILES');
    if (filesField) {
      const dot = name.lastIndexOf('.');
      const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : undefined;
      columns[filesField.name] = [
        { fileId: uploaded.fileId, label: name, ...(extension ? { extension } : {}) },
      ];
    }
  }
  return columns;
}
