import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import { uploadExportFolder } from '../../lib/cli/drop-folder.ts';

/** The tiny generic export and the operator mapping the tests pass for it (`--mapping`). */
export const tinyExportDir = join(import.meta.dirname, '..', 'fixtures', 'exports', 'tiny');
export const tinyMappingFile = join(import.meta.dirname, '..', 'fixtures', 'mappings', 'tiny.yaml');
export const tinyMapping = readFileSync(tinyMappingFile, 'utf8');

/** Top-level states entered, in order (states inside Map iterations are left out). */
export const entered = (transitions: readonly { type: string; state?: string; index?: number }[]) =>
  transitions.filter((t) => t.type === 'StateEntered' && t.index === undefined).map((t) => t.state);

/**
 * Uploads the tiny export into a drop bucket and puts the operator mapping beside it, as `ferry run
 * --mapping` does: the folder and the mapping's key for the execution input.
 */
export async function uploadTiny(drop: ObjectStore): Promise<{ folder: string; mappingKey: string }> {
  const { folder } = await uploadExportFolder(drop, tinyExportDir);
  const mappingKey = `${folder}.ferry-mapping/tiny.yaml`;
  await drop.put(mappingKey, tinyMapping, 'application/yaml');
  return { folder, mappingKey };
}
