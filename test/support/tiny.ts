import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The tiny generic export and the operator mapping the tests pass for it (`--mapping`). */
export const tinyExportDir = join(import.meta.dirname, '..', 'fixtures', 'exports', 'tiny');
export const tinyMappingFile = join(import.meta.dirname, '..', 'fixtures', 'mappings', 'tiny.yaml');
export const tinyMapping = readFileSync(tinyMappingFile, 'utf8');

/** Top-level states entered, in order (states inside Map iterations are left out). */
export const entered = (transitions: readonly { type: string; state?: string; index?: number }[]) =>
  transitions.filter((t) => t.type === 'StateEntered' && t.index === undefined).map((t) => t.state);
