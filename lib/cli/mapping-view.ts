import { Document, isMap, isPair, isScalar } from 'yaml';
import { z } from 'zod';
import { count, print } from './common.ts';

/**
 * The mapping section of plan.json as the CLI shows it: which file feeds which Twenty object, how
 * sure the proposal is of each column, and what it leaves out. Loose on purpose (display only).
 */
const FieldViewSchema = z.looseObject({ from: z.unknown().optional(), value: z.unknown().optional() });
const EntityViewSchema = z.looseObject({
  target: z.string(),
  files: z.array(z.string()).default([]),
  fields: z.record(z.string(), FieldViewSchema).default({}),
});
export const MappingViewSchema = z.looseObject({
  origin: z.string().optional(),
  detection: z
    .looseObject({
      source: z.string().optional(),
      confidence: z.number().optional(),
      evidence: z.string().optional(),
      profile: z.string().optional(),
    })
    .optional(),
  spec: z.looseObject({ entities: z.record(z.string(), EntityViewSchema).default({}) }),
  confidence: z.record(z.string(), z.record(z.string(), z.number())).default({}),
  unmappedColumns: z.array(z.looseObject({ file: z.string(), column: z.string() })).default([]),
  unmappedFiles: z.array(z.unknown()).default([]),
  auxiliaryFiles: z.array(z.looseObject({ file: z.string(), kind: z.string() })).default([]),
  excluded: z.array(z.looseObject({ file: z.string(), column: z.string(), rule: z.string() })).default([]),
  links: z
    .array(
      z.looseObject({
        file: z.string(),
        column: z.string(),
        parent: z.string(),
        sampled: z.number(),
        resolved: z.number(),
      }),
    )
    .default([]),
  blocking: z
    .array(
      z.looseObject({
        entity: z.string(),
        file: z.string(),
        column: z.string().optional(),
        field: z.string(),
        rule: z.string(),
        alternatives: z.array(z.string()).optional(),
      }),
    )
    .default([]),
});
export type MappingView = z.infer<typeof MappingViewSchema>;

/** The columns a field reads (`from` is one column, a list, or named composite parts). */
function columnsOf(field: z.infer<typeof FieldViewSchema>): string[] {
  const from = field.from;
  if (typeof from === 'string') return [from];
  if (Array.isArray(from)) return from.filter((c): c is string => typeof c === 'string');
  if (from !== null && typeof from === 'object')
    return Object.values(from).filter((c): c is string => typeof c === 'string');
  return [];
}

/**
 * The lowest confidence among the columns a field reads: 1 for constants, undefined when none of its
 * columns was scored (fields built from a pivot file's property names, typed from their values).
 */
export function fieldConfidence(
  view: MappingView,
  entity: string,
  field: z.infer<typeof FieldViewSchema>,
): number | undefined {
  const scores = view.confidence[entity] ?? {};
  const columns = columnsOf(field);
  if (columns.length === 0) return 1;
  const known = columns.map((column) => scores[column]).filter((n): n is number => n !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
}

/** Field keys whose value is the spec's default: left out of the YAML so what remains is the choice. */
const FIELD_DEFAULTS: Readonly<Record<string, unknown>> = {
  required: false,
  unmapped: 'reject',
  separator: ';',
};

/** A field with `from`/`value` first and default-valued keys dropped (parsing restores them). */
function readableField(field: Record<string, unknown>): Record<string, unknown> {
  const { from, value, ...rest } = field;
  const kept = Object.entries(rest).filter(([key, v]) => FIELD_DEFAULTS[key] !== v);
  return {
    ...(from === undefined || (Array.isArray(from) && from.length === 0) ? {} : { from }),
    ...(value === undefined ? {} : { value }),
    ...Object.fromEntries(kept),
  };
}

/** The stored spec made readable: fields via {@link readableField}, empty relations/targets dropped. */
function readableSpec(spec: unknown): unknown {
  if (spec === null || typeof spec !== 'object') return spec;
  const { entities, ...rest } = spec as { entities?: Record<string, Record<string, unknown>> };
  if (entities === undefined) return spec;
  const readable = Object.fromEntries(
    Object.entries(entities).map(([name, entity]) => {
      const { fields, relations, targets, ...others } = entity as {
        fields?: Record<string, Record<string, unknown>>;
        relations?: Record<string, unknown>;
        targets?: unknown[];
      };
      return [
        name,
        {
          ...others,
          ...(fields === undefined
            ? {}
            : { fields: Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, readableField(f)])) }),
          ...(relations === undefined || Object.keys(relations).length === 0 ? {} : { relations }),
          ...(targets === undefined || targets.length === 0 ? {} : { targets }),
        },
      ];
    }),
  );
  return { ...rest, entities: readable };
}

const percent = (n: number) => `${Math.round(n * 100)}%`;
/** Share of a link's sampled values that resolve below which `ferry plan` points it out. */
const WEAK_LINK = 0.8;

/** Prints the proposed mapping: entity → object per file, lowest confidence, and what is left out. */
export function printMapping(view: MappingView): void {
  const detection = view.detection;
  print(
    `  mapping: ${view.origin ?? 'proposed'}${detection?.source ? ` (${detection.source}${detection.confidence === undefined ? '' : `, detected at ${percent(detection.confidence)}`})` : ''}`,
  );
  if (detection?.evidence !== undefined) print(`    told by ${detection.evidence}`);
  if (detection?.profile !== undefined)
    print(`    ${detection.profile}${view.origin === 'auto' ? '; the auto-mapper maps it' : ''}`);
  const entities = Object.entries(view.spec.entities);
  const width = Math.max(6, ...entities.map(([name]) => name.length));
  for (const [name, entity] of entities) {
    const fields = Object.values(entity.fields);
    const scored = fields
      .map((f) => fieldConfidence(view, name, f))
      .filter((n): n is number => n !== undefined);
    const lowest = scored.length === 0 ? 1 : Math.min(...scored);
    print(
      `    ${name.padEnd(width)}  → ${entity.target.padEnd(16)} ${count(fields.length).padStart(3)} fields  lowest confidence ${percent(lowest).padStart(4)}  ${entity.files.join(', ')}`,
    );
  }
  for (const aux of view.auxiliaryFiles) print(`    ${aux.file}: ${aux.kind}`);
  // Links whose sampled values mostly resolve are what a plan expects; the rest are worth a look.
  const weak = view.links.filter((l) => l.sampled > 0 && l.resolved < WEAK_LINK * l.sampled);
  if (weak.length > 0)
    print(
      `  links with under ${percent(WEAK_LINK)} of sampled values resolving (orphans load unlinked): ${weak
        .map((l) => `${l.file}:${l.column} → ${l.parent} ${l.resolved}/${l.sampled}`)
        .join(', ')}`,
    );
  if (view.unmappedColumns.length > 0)
    print(
      `  not mapped (kept in the export, listed in plan.md): ${view.unmappedColumns.map((c) => `${c.file}:${c.column}`).join(', ')}`,
    );
  for (const excluded of view.excluded)
    print(`  excluded: ${excluded.file}:${excluded.column} (${excluded.rule})`);
  if (view.blocking.length > 0) {
    print('  to confirm before loading (ferry run stops here without --mapping or --accept-plan):');
    for (const line of blockingLines(view)) print(`    ${line}`);
  }
}

/** One line per blocking issue of the plan gate: file, column, field and rule — never a value. */
export function blockingLines(view: Pick<MappingView, 'blocking'>): string[] {
  return view.blocking.map(
    (b) =>
      `${b.file}${b.column ? `:${b.column}` : ''} — ${b.entity}.${b.field}: ${b.rule}` +
      (b.alternatives !== undefined && b.alternatives.length > 0
        ? ` (other columns: ${b.alternatives.join(', ')})`
        : ''),
  );
}

/**
 * The mapping as editable YAML: the spec Inventory stored, with each field annotated with the
 * proposal's confidence so an operator knows where to look first. `ferry run --mapping` reads it back.
 */
export function mappingYaml(spec: unknown, view: MappingView): string {
  const doc = new Document(readableSpec(spec));
  const toConfirm = blockingLines(view);
  doc.commentBefore =
    ' Ferry mapping proposal. Edit, then: ferry run <dir> --mapping <this file>.\n' +
    ' "confidence" comments show how sure the proposal is of each field (100% = source profile).' +
    (toConfirm.length > 0
      ? `\n\n TO CONFIRM (ferry run --yes stops on these until a mapping file or --accept-plan settles them):\n${toConfirm
          .map((l) => `   ${l}`)
          .join('\n')}`
      : '');
  const entities = doc.get('entities', true);
  if (isMap(entities)) {
    for (const pair of entities.items) {
      if (!isPair(pair) || !isScalar(pair.key) || !isMap(pair.value)) continue;
      const name = String(pair.key.value);
      const fields = pair.value.get('fields', true);
      const entity = view.spec.entities[name];
      if (!isMap(fields) || !entity) continue;
      for (const field of fields.items) {
        if (!isPair(field) || !isScalar(field.key)) continue;
        const spec = entity.fields[String(field.key.value)];
        const confidence = spec === undefined ? undefined : fieldConfidence(view, name, spec);
        field.key.commentBefore =
          confidence === undefined
            ? ' confidence: typed from the values'
            : ` confidence ${percent(confidence)}`;
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}
