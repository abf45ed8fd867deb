/**
 * Regenerates `mapping.schema.json` from the zod spec so editors complete mapping YAML; a unit
 * test fails when the committed file is stale. Run: `npx node lambdas/core/mapping/write-schema.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mappingJsonSchema } from './spec.ts';

/** Where the committed JSON Schema lives, next to the spec it is generated from. */
export const MAPPING_SCHEMA_PATH = fileURLToPath(new URL('./mapping.schema.json', import.meta.url));

/** The exact bytes the committed schema file must hold. */
export function renderMappingSchema(): string {
  return `${JSON.stringify(mappingJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(MAPPING_SCHEMA_PATH, renderMappingSchema());
}
