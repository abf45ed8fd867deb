import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { NotFoundError, TwentyRejectedError } from '../errors.ts';
import { fileColumns } from './attachment.ts';
import type { Pending } from './plan-writes.ts';
import type { SliceRejects } from './rejects.ts';

/** What {@link uploadAttachments} needs besides the records. */
export interface UploadContext {
  readonly twenty: TwentyApi;
  /** The drop folder the files' keys point into. */
  readonly drop: ObjectStore;
  /** The work bucket, for files Segment decoded from the export (`file.store: 'work'`). */
  readonly work?: ObjectStore;
  readonly maxFileBytes: number;
  /** Saves the slice's intent; called after each upload, before its attachment record exists. */
  readonly saveIntent: () => Promise<void>;
  readonly rejects: SliceRejects;
}

/**
 * Attachments: the file goes up first (once: a retry re-uses the upload the intent recorded);
 * its record then points at the upload ({@link fileColumns}). A file missing from the drop folder,
 * over `maxFileBytes` or refused by Twenty rejects its record. Returns the records to send: those
 * without a file and those whose file is uploaded, in their order.
 */
export async function uploadAttachments(pending: readonly Pending[], ctx: UploadContext): Promise<Pending[]> {
  const { twenty, rejects } = ctx;
  const sendable: Pending[] = [];
  for (const item of pending) {
    const file = item.line.file;
    if (file === undefined) {
      sendable.push(item);
      continue;
    }
    if (item.upload !== undefined) {
      item.fileColumns = fileColumns(await twenty.metadata(), item.upload, file.name);
      sendable.push(item);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await (file.store === 'work' && ctx.work !== undefined ? ctx.work : ctx.drop).get(file.key);
    } catch (error) {
      if (error instanceof NotFoundError) {
        rejects.reject(item.line, 'file', 'MISSING_FILE', 'the referenced file is not in the drop folder');
        continue;
      }
      throw error;
    }
    if (bytes.byteLength > ctx.maxFileBytes) {
      rejects.reject(
        item.line,
        'file',
        'FILE_TOO_LARGE',
        `files over ${ctx.maxFileBytes} bytes are not uploaded`,
      );
      continue;
    }
    try {
      const uploaded = await twenty.uploadFile(bytes, file.name, file.mime);
      item.upload = uploaded;
      // Recorded before the attachment record exists, so a retry after any later failure finds it.
      await ctx.saveIntent();
      item.fileColumns = fileColumns(await twenty.metadata(), uploaded, file.name);
      sendable.push(item);
    } catch (error) {
      if (!(error instanceof TwentyRejectedError)) throw error;
      if (error.status === 413) {
        rejects.reject(item.line, 'file', 'FILE_TOO_LARGE', 'over the workspace upload limit');
      } else {
        rejects.reject(item.line, 'file', 'TWENTY_REJECTED', error.reasons.join('; ') || 'upload refused');
      }
    }
  }
  return sendable;
}
