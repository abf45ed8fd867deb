import { z } from 'zod';
import { bytes, count, print } from './common.ts';

/**
 * The slice of plan.json the CLI displays. Deliberately loose (every field optional): the plan grows
 * with later stages, and a display must not fail a run that succeeded. plan.json carries no values.
 */
const PlanViewSchema = z.looseObject({
  files: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        key: z.string().optional(),
        rows: z.number().optional(),
        bytes: z.number().optional(),
        encoding: z.string().optional(),
        delimiter: z.string().optional(),
        malformedRows: z.number().optional(),
      }),
    )
    .optional(),
  warnings: z
    .array(
      z.looseObject({
        code: z.string().optional(),
        file: z.string().optional(),
        line: z.number().optional(),
      }),
    )
    .optional(),
  errors: z.array(z.unknown()).optional(),
  /** A FHIR bulk export: each NDJSON file's resource type. */
  fhir: z
    .looseObject({ files: z.record(z.string(), z.looseObject({ type: z.string() })).optional() })
    .optional(),
});
export type PlanView = z.infer<typeof PlanViewSchema>;

/** The displayable slice of a parsed plan.json; undefined when it is not the expected shape. */
export function planViewOf(json: unknown): PlanView | undefined {
  const parsed = PlanViewSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

const delimiterNames: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' };

/** Prints one line per file: the inventory an operator checks before approving. */
export function printInventory(plan: PlanView): void {
  const files = plan.files ?? [];
  if (files.length === 0) {
    print('  (no files)');
    return;
  }
  const width = Math.min(40, Math.max(4, ...files.map((f) => (f.name ?? f.key ?? '').length)));
  for (const file of files) {
    const name = (file.name ?? file.key ?? '?').padEnd(width);
    const resourceType = plan.fhir?.files?.[file.name ?? '']?.type;
    const details = [
      `${count(file.rows).padStart(9)} ${resourceType === undefined ? 'rows' : 'lines'}`,
      bytes(file.bytes).padStart(9),
      file.encoding ?? '',
      resourceType !== undefined
        ? `NDJSON ${resourceType}`
        : file.delimiter === undefined
          ? ''
          : (delimiterNames[file.delimiter] ?? file.delimiter),
      file.malformedRows ? `${count(file.malformedRows)} malformed` : '',
    ].filter(Boolean);
    print(`  ${name}  ${details.join('  ')}`);
  }
  const warnings = plan.warnings ?? [];
  if (warnings.length > 0) {
    const byCode = new Map<string, number>();
    for (const warning of warnings)
      byCode.set(warning.code ?? 'WARNING', (byCode.get(warning.code ?? 'WARNING') ?? 0) + 1);
    print(`  warnings: ${[...byCode].map(([code, n]) => `${code} ×${n}`).join(', ')}`);
  }
}
