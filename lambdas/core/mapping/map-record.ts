import { ValidationError } from '../errors.ts';
import { append, type FieldReject, type WarningCode } from '../validation/codes.ts';
import { phiVerdict } from './phi.ts';
import type { EntitySpec, FieldSpec, MappingOptions, PhiPolicy } from './spec.ts';
import { date, dateTime } from './transforms/date.ts';
import { emails } from './transforms/email.ts';
import { fullName } from './transforms/full-name.ts';
import { links } from './transforms/links.ts';
import { boolean, money, number } from './transforms/numbers.ts';
import { phones } from './transforms/phones.ts';
import type { TransformResult } from './transforms/result.ts';
import { richText } from './transforms/rich-text.ts';
import { compileSelect, multiSelect, select } from './transforms/select.ts';
import { text } from './transforms/text.ts';
import { type AddressParts, address, usState, zip } from './transforms/us-address.ts';

/** A source row: header name → cell text, as Segment writes it into NDJSON chunks. */
export type SourceCells = Readonly<Record<string, string | undefined>>;

/** What mapping needs besides the spec: run-wide options, the run's clock, the PHI policy. */
export interface MapContext {
  readonly options: MappingOptions;
  /** Epoch ms of the run (clock port); birth-date checks and two-digit years use it. */
  readonly now: number;
  readonly phi?: PhiPolicy;
}

/** A mapped record, still keyed by source ids: the loader turns those into deterministic UUIDs. */
export interface MappedRecord {
  readonly sourceId: string;
  /** Twenty field name → value in Twenty's shape (composites as objects). */
  readonly fields: Record<string, unknown>;
  /** Relation name (key in the entity's `relations`) → referenced source id. */
  readonly relations: Record<string, string>;
  /** noteTarget/taskTarget/attachment links, by referenced entity and source id. */
  readonly targets: Array<{ entity: string; sourceId: string }>;
}

export type MapRowResult =
  | { readonly ok: true; readonly record: MappedRecord; readonly warnings: WarningCode[] }
  | { readonly ok: false; readonly sourceId: string | null; readonly rejects: FieldReject[] };

type FieldFn = (cells: SourceCells) => TransformResult<unknown>;

interface CompiledField {
  readonly name: string;
  readonly required: boolean;
  readonly columns: readonly string[];
  readonly run: FieldFn;
}

/** An entity spec precompiled into closures: the per-row path does no spec interpretation. */
export interface CompiledEntity {
  readonly name: string;
  readonly spec: EntitySpec;
  /** Every source column the mapping reads (for Segment projections and PHI checks). */
  readonly columns: readonly string[];
  /** Fields holding EMAILS composites (family-email handling looks at their primaryEmail). */
  readonly emailFields: readonly string[];
  mapRow(cells: SourceCells): MapRowResult;
}

/** The source columns a field reads, in order (one, several, or the parts of a composite). */
export function columnsOf(from: FieldSpec['from']): string[] {
  if (typeof from === 'string') return [from];
  if (Array.isArray(from)) return from;
  return Object.values(from);
}

/** Cell name a constant is read from when it is run through its transform. */
const CONSTANT_CELL = '\u0000constant';

/**
 * A constant field (`value` instead of `from`): the constant goes through the field's transform
 * once, at compile time, as if it were the cell — so value maps and option names apply and the
 * result is already in Twenty's shape. A constant the transform refuses is a mapping error.
 */
function compileConstant(entityName: string, fieldName: string, field: FieldSpec, ctx: MapContext): FieldFn {
  const cell = String(field.value);
  const run = compileField({ ...field, from: CONSTANT_CELL }, ctx);
  const result = run({ [CONSTANT_CELL]: cell });
  if (!result.ok)
    throw new ValidationError(
      `mapping: entities.${entityName}.fields.${fieldName}.value: constant fails transform ${field.transform} (${result.reason})`,
      { code: 'MAPPING_INVALID' },
    );
  return () => result;
}

function compileField(field: FieldSpec, ctx: MapContext): FieldFn {
  const { options, now } = ctx;
  const cols = columnsOf(field.from);
  const first = cols[0] ?? '';
  const one = (cells: SourceCells): string => cells[first] ?? '';
  const many = (cells: SourceCells): string[] => cols.map((c) => cells[c] ?? '');
  const order = field.dateOrder ?? options.dateOrder;
  switch (field.transform) {
    case 'text':
      if (cols.length === 1) return (c) => text(one(c), field.maxLength);
      return (c) =>
        text(
          many(c)
            .map((v) => v.trim())
            .filter((v) => v !== '')
            .join(' '),
          field.maxLength,
        );
    case 'fullName':
      return (c) => fullName(many(c));
    case 'email':
      return (c) => emails(many(c));
    case 'phones':
      return (c) => phones(many(c), options.defaultCountry);
    case 'date':
      return (c) => date(one(c), order, now, field.validate);
    case 'dateTime':
      // A date column and a time column (`from: [date, time]`) make one date-time.
      if (cols.length > 1)
        return (c) =>
          dateTime(
            many(c)
              .map((v, i) => (i === 0 ? v.trim() : timeOfDay(v)))
              .filter((v) => v !== '')
              .join(' '),
            order,
            options.timezone,
            now,
          );
      return (c) => dateTime(one(c), order, options.timezone, now);
    case 'money': {
      const currency = field.currency ?? options.currency;
      return (c) => money(one(c), currency, field.decimalComma);
    }
    case 'number':
      return (c) => number(one(c), field.decimalComma);
    case 'boolean':
      return (c) => boolean(one(c));
    case 'usState':
      return (c) => usState(one(c));
    case 'zip':
      return (c) => zip(one(c));
    case 'select': {
      const compiled = compileSelect({ ...field, options: field.custom?.options });
      return (c) => select(one(c), compiled);
    }
    case 'multiSelect': {
      const compiled = compileSelect({ ...field, options: field.custom?.options });
      return (c) => multiSelect(one(c), compiled, field.separator);
    }
    case 'richText':
      return (c) =>
        richText(
          many(c)
            .filter((v) => v.trim() !== '')
            .join('\n\n'),
        );
    case 'links':
      return (c) => links(many(c));
    case 'address': {
      const parts = Object.entries(field.from as Record<string, string>) as Array<
        [keyof AddressParts, string]
      >;
      return (c) => {
        const values: AddressParts = {};
        for (const [role, column] of parts) values[role] = c[column] ?? '';
        return address(values, options.defaultCountry);
      };
    }
  }
}

/**
 * The fields of an entity that read a column the PHI policy excludes (SSNs always), as
 * `entities.<entity>.fields.<field>.from: …` — names and rules, never values. Inventory refuses an
 * operator mapping with any, before anything is written; Prepare checks again when it compiles.
 */
export function phiProblems(entityName: string, spec: Pick<EntitySpec, 'fields'>, phi?: PhiPolicy): string[] {
  const problems: string[] = [];
  for (const [fieldName, field] of Object.entries(spec.fields)) {
    for (const column of columnsOf(field.from)) {
      const verdict = phiVerdict(column, phi);
      if (verdict !== 'allowed')
        problems.push(
          `entities.${entityName}.fields.${fieldName}.from: column is excluded by the PHI policy (${verdict === 'ssn' ? 'SSNs are never migrated' : 'phi.neverMigrate'})`,
        );
    }
  }
  return problems;
}

function assertPhiAllowed(entityName: string, spec: EntitySpec, ctx: MapContext): void {
  const problems = phiProblems(entityName, spec, ctx.phi);
  if (problems.length > 0)
    throw new ValidationError(problems.map((p) => `mapping: ${p}`).join('\n'), { code: 'PHI_FORBIDDEN' });
}

/**
 * A time-of-day cell as the date parser reads it beside any date format, ISO dates included:
 * 24-hour `HH:MM` (`0930` → `09:30`, `2 PM` → `14:00`, `12:00 AM` → `00:00`).
 */
export function timeOfDay(raw: string): string {
  const v = raw.trim();
  const hhmm = /^([0-2]?\d)([0-5]\d)$/.exec(v);
  if (hhmm) return `${hhmm[1]}:${hhmm[2]}`;
  const twelve = /^(\d{1,2})(?::([0-5]\d))?(?::([0-5]\d))?\s*([ap])\.?m\.?$/i.exec(v);
  if (twelve) {
    const h = Number(twelve[1]);
    if (h < 1 || h > 12) return v;
    const hour = (h % 12) + ((twelve[4] ?? '').toLowerCase() === 'p' ? 12 : 0);
    return `${String(hour).padStart(2, '0')}:${twelve[2] ?? '00'}${twelve[3] === undefined ? '' : `:${twelve[3]}`}`;
  }
  return v;
}

/**
 * A row's source id: its id column trimmed, or for a composite id (`idColumns`) the trimmed parts
 * joined with U+001F — blank when every part is blank.
 */
export function sourceIdOf(spec: Pick<EntitySpec, 'idColumn' | 'idColumns'>, cells: SourceCells): string {
  if (spec.idColumns === undefined) return (cells[spec.idColumn] ?? '').trim();
  const parts = spec.idColumns.map((c) => (cells[c] ?? '').trim());
  return parts.every((p) => p === '') ? '' : parts.join('\u001f');
}

/**
 * Compiles one entity of a parsed spec. Throws ValidationError (code PHI_FORBIDDEN) when the
 * mapping reads a column the PHI policy excludes: that is a plan error, not a per-row reject.
 */
export function compileEntity(entityName: string, spec: EntitySpec, ctx: MapContext): CompiledEntity {
  assertPhiAllowed(entityName, spec, ctx);
  const fields: CompiledField[] = Object.entries(spec.fields).map(([name, field]) => ({
    name,
    required: field.required,
    columns: columnsOf(field.from),
    run: field.value !== undefined ? compileConstant(entityName, name, field, ctx) : compileField(field, ctx),
  }));
  const relations = Object.entries(spec.relations).map(([name, rel]) => ({ name, ...rel }));
  const targets = spec.targets;
  const idColumn = spec.idColumn;
  const columns = [
    ...new Set([
      idColumn,
      ...(spec.idColumns ?? []),
      ...fields.flatMap((f) => f.columns),
      ...relations.map((r) => r.from),
      ...targets.map((t) => t.from),
    ]),
  ];
  const emailFields = Object.entries(spec.fields)
    .filter(([, f]) => f.transform === 'email')
    .map(([n]) => n);

  function mapRow(cells: SourceCells): MapRowResult {
    let rejects: FieldReject[] | undefined;
    const sourceId = sourceIdOf(spec, cells);
    if (sourceId === '')
      rejects = append(rejects, { field: idColumn, reason: 'MISSING_REQUIRED', rule: 'idColumn required' });
    for (const column of columns) {
      const v = cells[column];
      if (v?.includes('\uFFFD')) {
        rejects = append(rejects, {
          field: column,
          reason: 'ENCODING_ERROR',
          rule: 'cell is not valid in the file encoding',
        });
      }
    }
    const out: Record<string, unknown> = {};
    let warnings: WarningCode[] | undefined;
    for (const f of fields) {
      const r = f.run(cells);
      if (!r.ok) {
        rejects = append(rejects, { field: f.name, reason: r.reason, rule: r.rule });
        continue;
      }
      if (r.value === null) {
        if (f.required)
          rejects = append(rejects, { field: f.name, reason: 'MISSING_REQUIRED', rule: 'required' });
        continue;
      }
      out[f.name] = r.value;
      if (r.warnings !== undefined) {
        warnings ??= [];
        for (const w of r.warnings) warnings.push(w);
      }
    }
    const rel: Record<string, string> = {};
    for (const r of relations) {
      const ref = (cells[r.from] ?? '').trim();
      if (ref === '') {
        if (r.required)
          rejects = append(rejects, { field: r.name, reason: 'MISSING_REQUIRED', rule: 'relation required' });
      } else rel[r.name] = ref;
    }
    const tgt: Array<{ entity: string; sourceId: string }> = [];
    for (const t of targets) {
      const ref = (cells[t.from] ?? '').trim();
      if (ref !== '') tgt.push({ entity: t.entity, sourceId: ref });
    }
    if (rejects !== undefined) return { ok: false, sourceId: sourceId === '' ? null : sourceId, rejects };
    return {
      ok: true,
      record: { sourceId, fields: out, relations: rel, targets: tgt },
      warnings: warnings ?? [],
    };
  }

  return { name: entityName, spec, columns, emailFields, mapRow };
}

const compiledCache = new WeakMap<EntitySpec, WeakMap<MapContext, CompiledEntity>>();

/**
 * Maps one row with an entity spec (compiled on first use and cached per spec+context object).
 * Prefer `compileEntity` in loops that own their lifecycle.
 */
export function mapRow(
  entitySpec: EntitySpec,
  cells: SourceCells,
  ctx: MapContext,
  entityName = 'entity',
): MapRowResult {
  let byCtx = compiledCache.get(entitySpec);
  if (byCtx === undefined) {
    byCtx = new WeakMap();
    compiledCache.set(entitySpec, byCtx);
  }
  let compiled = byCtx.get(ctx);
  if (compiled === undefined) {
    compiled = compileEntity(entityName, entitySpec, ctx);
    byCtx.set(ctx, compiled);
  }
  return compiled.mapRow(cells);
}
