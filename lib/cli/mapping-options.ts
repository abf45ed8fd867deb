import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError } from '../../lambdas/core/errors.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';

/** `--source` values: a profile, `generic` (operator mapping or auto-mapper), or detection. */
export const SOURCES = ['auto', 'apms', 'pbn', 'generic', 'fhir'] as const;

/** Checks `--source` and `--mapping` before any server starts (exit 2 naming the option). */
export function checkMappingOptions(options: { readonly source?: string; readonly mapping?: string }): void {
  if (options.source !== undefined && !(SOURCES as readonly string[]).includes(options.source))
    throw new ConfigError(`--source must be one of ${SOURCES.join(', ')}`);
  if (options.mapping !== undefined && !existsSync(options.mapping))
    throw new ConfigError(`mapping file ${options.mapping} does not exist`);
  if (options.mapping !== undefined && !statSync(options.mapping).isFile())
    throw new ConfigError(`mapping file ${options.mapping} is not a file: pass the mapping YAML`);
}

/**
 * Uploads an operator's mapping YAML beside the export (under a dot-folder Inventory skips as data)
 * and returns its key for Inventory's `mappingKey` option; undefined when there is none.
 */
export async function uploadOperatorMapping(
  drop: ObjectStore,
  folder: string,
  mapping: string | undefined,
): Promise<string | undefined> {
  if (mapping === undefined) return undefined;
  const key = `${folder}.ferry-mapping/${basename(mapping)}`;
  let yaml: Buffer;
  try {
    yaml = readFileSync(mapping);
  } catch (error) {
    throw new ConfigError(`mapping file ${mapping} cannot be read: pass the mapping YAML`, { cause: error });
  }
  await drop.put(key, yaml, 'application/yaml');
  return key;
}

/** Inventory options for `--source` / `--mapping`, omitting what was not given. */
export function mappingInventoryOptions(
  source: string | undefined,
  mappingKey: string | undefined,
): { source?: string; mappingKey?: string } {
  return {
    ...(source === undefined ? {} : { source }),
    ...(mappingKey === undefined ? {} : { mappingKey }),
  };
}
