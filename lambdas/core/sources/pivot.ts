/**
 * Long-format ("pivot") files: one row per record × property (APMS custom patient properties:
 * PatientID, PropertyName, PropertyValue). The pivot is declared IN THE MAPPING SPEC on the entity
 * it extends (`entities.patients.pivot`), and every property is an ordinary field of that entity
 * whose `from` is the property name, so ApplySchema, Prepare and Reconcile need no special case.
 *
 * WHO CALLS WHAT
 * - Inventory (after `bindProfile`, which carries `pivot` bound to the dropped file name): read the
 *   pivot file's rows once and call `bindPivots(spec, readRows)`; it adds one inferred custom
 *   field per property (TEXT / SELECT / DATE / NUMBER) to the entity's `fields` and returns the
 *   new spec (write it to mapping.json / plan.json as usual). Properties whose name the PHI policy
 *   excludes (SSNs) are never added. An operator-edited mapping keeps the fields it has.
 * - Prepare, per entity with a `pivot`, BEFORE mapping it: stream the pivot file's Segment rows into
 *   `createPivotIndex(entity.pivot)` (`index.add({line, cells})`; rows it refuses come back as
 *   rejects to write), then map each row of the entity with `compiled.mapRow(withPivot(cells,
 *   index, entity.idColumn))`. After the entity: `index.settle((id) => loaded.has(id))` gives the
 *   pivot file's accounting (loaded / skipped PIVOTED) for prepare.json.
 *
 * ACCOUNTING of the pivot file's rows (expected.json uses the same rules):
 * - rejected MALFORMED_ROW (Segment), MISSING_REQUIRED (blank id or property name),
 *   ENCODING_ERROR (name or value not valid in the file's encoding), DUPLICATE_SOURCE_ID (the same
 *   record × property again; the first one wins);
 * - loaded: merged into a record that loads;
 * - skipped PIVOTED: its record does not load (rejected, or absent from the export).
 */

import type { SourceCells } from '../mapping/map-record.ts';
import { phiVerdict } from '../mapping/phi.ts';
import type {
  EntitySpec,
  EntitySpecInput,
  FieldSpecInput,
  MappingSpecInput,
  PhiPolicy,
  SelectOptionSpec,
} from '../mapping/spec.ts';
import { parseDateParts } from '../mapping/transforms/date.ts';
import { parseDecimal } from '../mapping/transforms/numbers.ts';
import { optionsOf } from './profile.ts';

export type InferredFieldType = 'TEXT' | 'SELECT' | 'DATE' | 'NUMBER';

/** A custom field inferred for one property name of a long-format (pivot) file. */
export interface PivotField {
  /** The property name as the source wrote it. */
  readonly property: string;
  /** camelCase Twenty field name. */
  readonly fieldName: string;
  readonly type: InferredFieldType;
  readonly values: number;
  readonly options?: SelectOptionSpec[];
}

/** Twenty field name for a property label: camelCase ASCII, never starting with a digit. */
export function fieldNameOf(property: string): string {
  const words = property
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '');
  const camel = words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]?.toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
  const safe = /^[a-z]/.test(camel) ? camel : `custom${camel.charAt(0).toUpperCase()}${camel.slice(1)}`;
  return safe.slice(0, 63) || 'customProperty';
}

/**
 * Infers one custom field per property from its values: all numbers → NUMBER, all dates (in
 * the source's day/month order) → DATE, a small repeated vocabulary → SELECT with one option
 * per value, anything else → TEXT. Rows already rejected must not be passed in.
 */
export function inferPivotFields(
  rows: Iterable<{ readonly property: string; readonly value: string }>,
  options: { dateOrder?: 'MDY' | 'DMY' | 'YMD'; nowYear?: number } = {},
): PivotField[] {
  const byProperty = new Map<string, string[]>();
  for (const { property, value } of rows) {
    const p = property.trim();
    const v = value.trim();
    if (p === '') continue;
    let list = byProperty.get(p);
    if (list === undefined) {
      list = [];
      byProperty.set(p, list);
    }
    if (v !== '') list.push(v);
  }
  const order = options.dateOrder ?? 'MDY';
  const nowYear = options.nowYear ?? 2025;
  const fields: PivotField[] = [];
  for (const [property, values] of [...byProperty].sort(([a], [b]) => a.localeCompare(b))) {
    const fieldName = fieldNameOf(property);
    const distinct = [...new Set(values)].sort();
    let type: InferredFieldType = 'TEXT';
    if (
      values.length > 0 &&
      values.every((v) => typeof parseDecimal(v) === 'object' && parseDecimal(v) !== null)
    )
      type = 'NUMBER';
    else if (
      values.length > 0 &&
      values.every((v) => {
        const d = parseDateParts(v, order, nowYear);
        return d !== null && !('reason' in d);
      })
    )
      type = 'DATE';
    else if (distinct.length > 0 && distinct.length <= 20 && values.length >= 2 * distinct.length)
      type = 'SELECT';
    fields.push(
      type === 'SELECT'
        ? { property, fieldName, type, values: values.length, options: optionsOf(distinct) }
        : { property, fieldName, type, values: values.length },
    );
  }
  return fields;
}

/** Skip reason of a pivot row whose record does not load. */
export const PIVOTED = 'PIVOTED';

/** The spec-level pivot declaration (`entities.<name>.pivot`). */
export type EntityPivot = NonNullable<EntitySpec['pivot']>;

/** A row of the pivot file as Segment writes it. */
export interface PivotSourceRow {
  readonly line: number;
  readonly cells: SourceCells;
}

/** A pivot row refused before the join: never a value, only where and why. */
export interface PivotReject {
  readonly line: number;
  readonly sourceId: string | null;
  readonly field: string;
  readonly reason: 'MISSING_REQUIRED' | 'ENCODING_ERROR' | 'DUPLICATE_SOURCE_ID';
  readonly rule: string;
}

/** What became of the pivot file's accepted rows once its entity is prepared. */
export interface PivotSettlement {
  /** Rows merged into a record that loads. */
  readonly loaded: number;
  /** Rows whose record does not load, by skip reason (`PIVOTED`). */
  readonly skipped: Record<string, number>;
}

/**
 * Record source id → property name → value, built from the pivot file's rows. It is a `Map`
 * (what `withPivot` reads) that also remembers how many accepted rows each record has, so the
 * pivot file can be accounted for row by row once its entity is known.
 */
export class PivotIndex extends Map<string, Record<string, string>> {
  readonly pivot: EntityPivot;
  /** Rows refused by `add` (already counted; the caller writes them to the rejects file). */
  readonly rejects: PivotReject[] = [];

  constructor(pivot: EntityPivot) {
    super();
    this.pivot = pivot;
  }

  /** Adds one row; returns the reject when the row is refused (nothing is merged then). */
  add(row: PivotSourceRow): PivotReject | null {
    const { idColumn, nameColumn, valueColumn } = this.pivot;
    const id = (row.cells[idColumn] ?? '').trim();
    const name = (row.cells[nameColumn] ?? '').trim();
    const value = row.cells[valueColumn] ?? '';
    let reject: PivotReject | null = null;
    if (id === '' || name === '') {
      const field = id === '' ? idColumn : nameColumn;
      reject = {
        line: row.line,
        sourceId: id || null,
        field,
        reason: 'MISSING_REQUIRED',
        rule: `${field} required`,
      };
    } else if (name.includes('\uFFFD') || value.includes('\uFFFD')) {
      const field = name.includes('\uFFFD') ? nameColumn : valueColumn;
      reject = {
        line: row.line,
        sourceId: id,
        field,
        reason: 'ENCODING_ERROR',
        rule: 'cell is not valid in the file encoding',
      };
    } else {
      let properties = this.get(id);
      if (properties === undefined) {
        properties = {};
        this.set(id, properties);
      }
      if (Object.hasOwn(properties, name))
        reject = {
          line: row.line,
          sourceId: id,
          field: nameColumn,
          reason: 'DUPLICATE_SOURCE_ID',
          rule: 'one value per record and property',
        };
      else properties[name] = value;
    }
    if (reject !== null) this.rejects.push(reject);
    return reject;
  }

  /**
   * Accounts for the accepted rows once the entity is prepared: rows of records that load are
   * loaded, the others are skipped PIVOTED. Rejected rows were counted by `add`.
   */
  settle(loads: (sourceId: string) => boolean): PivotSettlement {
    let loaded = 0;
    let pivoted = 0;
    for (const [id, properties] of this) {
      const n = Object.keys(properties).length;
      if (loads(id)) loaded += n;
      else pivoted += n;
    }
    return { loaded, skipped: pivoted > 0 ? { [PIVOTED]: pivoted } : {} };
  }
}

/** An empty index for a pivot, filled row by row with `add` (e.g. from a streamed chunk). */
export function createPivotIndex(pivot: EntityPivot): PivotIndex {
  return new PivotIndex(pivot);
}

/** Builds the index from all rows of the pivot file at once (tests, small files). */
export function buildPivotIndex(rows: Iterable<PivotSourceRow>, pivot: EntityPivot): PivotIndex {
  const index = createPivotIndex(pivot);
  for (const row of rows) index.add(row);
  return index;
}

/**
 * The entity row's cells with its pivoted properties joined in, property name → value. A cell
 * the row already has is never overwritten (a property named like a real column loses), so the
 * join can only add information. Rows without properties are returned as they are.
 */
export function withPivot(
  cells: SourceCells,
  index: ReadonlyMap<string, Readonly<Record<string, string>>>,
  idColumn: string,
): SourceCells {
  const properties = index.get((cells[idColumn] ?? '').trim());
  if (properties === undefined) return cells;
  const joined: Record<string, string | undefined> = { ...cells };
  for (const [name, value] of Object.entries(properties))
    if (joined[name] === undefined) joined[name] = value;
  return joined;
}

/** The field spec (input form) for an inferred property: typed transform plus its custom field. */
export function pivotFieldSpec(field: PivotField, dateOrder: 'MDY' | 'DMY' | 'YMD' = 'MDY'): FieldSpecInput {
  const label = field.property;
  switch (field.type) {
    case 'NUMBER':
      return { from: field.property, transform: 'number', custom: { type: 'NUMBER', label } };
    case 'DATE':
      return { from: field.property, transform: 'date', dateOrder, custom: { type: 'DATE', label } };
    case 'SELECT':
      return {
        from: field.property,
        transform: 'select',
        unmapped: 'addOption',
        custom: { type: 'SELECT', label, options: field.options ?? [] },
      };
    case 'TEXT':
      return { from: field.property, transform: 'text', custom: { type: 'TEXT', label } };
  }
}

/** Reads the rows of the file(s) a pivot names, as the caller stores them (drop folder or chunks). */
export type PivotRowReader = (
  entity: string,
  pivot: EntityPivot,
) => AsyncIterable<SourceCells> | Iterable<SourceCells> | Promise<Iterable<SourceCells>>;

/**
 * Adds the inferred property fields to every entity of `spec` that declares a `pivot`: one field
 * per property name, typed from the values, named `fieldNameOf(property)` (suffixed on a clash
 * with an existing field). Fields the spec already reads from a property are kept as they are (an
 * operator's edit wins); properties the PHI policy excludes are left out. Pure apart from
 * `readRows`; the result is a new spec in input form, ready for `parseMappingSpec`.
 */
export async function bindPivots(
  spec: MappingSpecInput,
  readRows: PivotRowReader,
  options: { nowYear?: number } = {},
): Promise<MappingSpecInput> {
  const entities: Record<string, EntitySpecInput> = { ...(spec.entities as Record<string, EntitySpecInput>) };
  const order = spec.options?.dateOrder;
  const dateOrder = order === 'DMY' || order === 'YMD' ? order : 'MDY';
  const phi: PhiPolicy = { neverMigrate: spec.phi?.neverMigrate ?? [], allow: spec.phi?.allow ?? [] };
  for (const [name, entity] of Object.entries(entities)) {
    const pivot = entity.pivot;
    if (pivot === undefined) continue;
    const values: Array<{ property: string; value: string }> = [];
    const index = createPivotIndex(pivot);
    let line = 0;
    for await (const cells of await readRows(name, pivot)) {
      line++;
      if (index.add({ line, cells }) !== null) continue;
      values.push({
        property: (cells[pivot.nameColumn] ?? '').trim(),
        value: cells[pivot.valueColumn] ?? '',
      });
    }
    const fields: Record<string, FieldSpecInput> = { ...(entity.fields ?? {}) };
    const read = new Set(
      Object.values(fields).flatMap((f) =>
        typeof f.from === 'string' ? [f.from] : Array.isArray(f.from) ? f.from : [],
      ),
    );
    for (const field of inferPivotFields(values, { dateOrder, nowYear: options.nowYear })) {
      if (read.has(field.property) || phiVerdict(field.property, phi) !== 'allowed') continue;
      let fieldName = field.fieldName;
      for (let n = 2; fieldName in fields; n++) fieldName = `${field.fieldName.slice(0, 60)}${n}`;
      fields[fieldName] = pivotFieldSpec(field, dateOrder);
    }
    entities[name] = { ...entity, fields };
  }
  return { ...spec, entities };
}
