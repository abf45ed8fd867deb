import { columnsOf } from './map-record.ts';
import type { EntitySpec, MappingSpec } from './spec.ts';

/** A file as the review sees it: its name in the drop folder, header and a few sampled rows (memory only). */
export interface ReviewedFile {
  readonly name: string;
  readonly header: readonly string[];
  readonly sample: readonly (readonly string[])[];
}

/**
 * Something the plan gate stops on: a critical field Ferry could not settle from the export. Names
 * the entity, file, column and rule — never a value. `ferry run --yes` stops before any write until
 * an operator mapping (`--mapping`) or `--accept-plan` says how to proceed.
 */
export interface BlockingIssue {
  readonly entity: string;
  readonly file: string;
  readonly column?: string;
  readonly field: string;
  readonly rule: string;
  /** Other columns of the file that could fill the field (names only), for the operator to choose from. */
  readonly alternatives?: readonly string[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Share of a column's sampled emails found among another file's emails from which it is that party's email. */
const FOREIGN_EMAIL_SHARE = 0.5;
/** A roster column: at least this share of its sampled emails are distinct. */
const ROSTER_DISTINCT = 0.9;
/** A referencing column repeats addresses: its distinct share is under this fraction of the roster's. */
const REPEAT_FACTOR = 0.6;
/** Below this id confidence the auto-mapper guessed the id column (first unique column). */
const ID_CONFIDENCE_FLOOR = 0.5;
/** Standard objects whose records mean nothing without the record they belong to. */
const CHILD_TARGETS = new Set(['task', 'note', 'attachment', 'opportunity']);

function emailsOf(file: ReviewedFile, column: number): string[] {
  return file.sample.map((row) => (row[column] ?? '').trim().toLowerCase()).filter((v) => EMAIL.test(v));
}

function emailShare(file: ReviewedFile, column: number): number {
  const vals = file.sample.map((row) => (row[column] ?? '').trim()).filter((v) => v !== '');
  return vals.length === 0 ? 0 : emailsOf(file, column).length / vals.length;
}

function fieldsRead(entity: EntitySpec): string[] {
  return Object.values(entity.fields).flatMap((f) => columnsOf(f.from));
}

/**
 * Checks a proposed (profile or auto) mapping against the export's values, where names mislead:
 * - a person's `emails` read from a column that repeats addresses which another file lists once each
 *   (the assigned provider's, a guarantor's…) is another party's address: the field is dropped from
 *   the spec — a patient never receives someone else's email — and the gate stops on it;
 * - an entity whose id column was only guessed;
 * - a task, note, attachment or opportunity with no parent reference (it would load unlinked).
 * Returns the spec to run (possibly without the dropped fields) and the blocking issues.
 */
export function reviewMapping(
  spec: MappingSpec,
  files: readonly ReviewedFile[],
  confidence: Readonly<Record<string, Readonly<Record<string, number>>>>,
  filesOfEntity: (entity: EntitySpec) => readonly ReviewedFile[],
): { spec: MappingSpec; blocking: BlockingIssue[] } {
  const blocking: BlockingIssue[] = [];
  const entities: Record<string, EntitySpec> = {};
  for (const [name, entity] of Object.entries(spec.entities)) {
    const own = filesOfEntity(entity);
    const ownNames = new Set(own.map((f) => f.name));
    const fileName = own[0]?.name ?? entity.files.join(', ');
    let fields = entity.fields;

    const email = entity.fields.emails;
    if (email !== undefined && entity.target === 'person') {
      for (const column of columnsOf(email.from)) {
        const values = own.flatMap((f) => {
          const i = f.header.indexOf(column);
          return i < 0 ? [] : emailsOf(f, i);
        });
        if (values.length === 0) continue;
        // Another file's email column in which each address stands once (a roster of those parties)
        // and which holds most of this column's addresses, while this column repeats them: a reference.
        const ownDistinct = new Set(values).size / values.length;
        const foreign = files
          .filter((f) => !ownNames.has(f.name))
          .flatMap((f) =>
            f.header.map((_, i) => {
              const theirs = emailsOf(f, i);
              const set = new Set(theirs);
              const distinct = theirs.length === 0 ? 0 : set.size / theirs.length;
              return {
                file: f.name,
                distinct,
                share: values.filter((v) => set.has(v)).length / values.length,
              };
            }),
          )
          .filter((c) => c.distinct >= ROSTER_DISTINCT && ownDistinct < c.distinct * REPEAT_FACTOR)
          .sort((a, b) => b.share - a.share)[0];
        if (foreign !== undefined && foreign.share >= FOREIGN_EMAIL_SHARE) {
          const { emails: _dropped, ...rest } = fields;
          fields = rest;
          const alternatives = own.flatMap((f) =>
            f.header.filter((h, i) => h !== column && emailShare(f, i) >= 0.8),
          );
          blocking.push({
            entity: name,
            file: fileName,
            column,
            field: 'emails',
            ...(alternatives.length > 0 ? { alternatives } : {}),
            rule: `${Math.round(foreign.share * 100)}% of its sampled emails are emails of ${foreign.file}: another party's address, not this ${entity.target}'s own (not mapped)`,
          });
        }
      }
    }

    const idConfidence = confidence[name]?.[entity.idColumn];
    if (idConfidence !== undefined && idConfidence < ID_CONFIDENCE_FLOOR) {
      const alternatives = own.flatMap((f) =>
        f.header.filter((h, i) => {
          if (h === entity.idColumn) return false;
          const vals = f.sample.map((r) => (r[i] ?? '').trim());
          return vals.length > 0 && vals.every((v) => v !== '') && new Set(vals).size === vals.length;
        }),
      );
      blocking.push({
        entity: name,
        file: fileName,
        column: entity.idColumn,
        field: 'id',
        rule:
          idConfidence === 0
            ? 'no column, nor a combination of columns, tells the rows apart: the records have no id'
            : `no id column found by name; "${entity.idColumn}" was guessed (confidence ${idConfidence.toFixed(2)})`,
        ...(alternatives.length > 0 ? { alternatives } : {}),
      });
    }

    // A parent reference the names and values could not settle (two files fit as well).
    for (const column of [
      ...Object.values(entity.relations).map((r) => r.from),
      ...entity.targets.map((t) => t.from),
    ]) {
      const refConfidence = confidence[name]?.[column];
      if (refConfidence === undefined || refConfidence >= ID_CONFIDENCE_FLOOR) continue;
      blocking.push({
        entity: name,
        file: fileName,
        column,
        field: 'parent reference',
        rule: `its header and values fit two files' records about as well; which one it references was guessed (confidence ${refConfidence.toFixed(2)})`,
      });
    }

    const hasParent = entity.targets.length > 0 || Object.keys(entity.relations).length > 0;
    if (CHILD_TARGETS.has(entity.target) && !hasParent) {
      const read = new Set([entity.idColumn, ...fieldsRead(entity)]);
      const alternatives = own.flatMap((f) =>
        f.header.filter(
          (h) => !read.has(h) && /(\bid\b|#|\bno\b|num|number|code|chart|patient|account)/i.test(h),
        ),
      );
      blocking.push({
        entity: name,
        file: fileName,
        field: 'parent reference',
        ...(alternatives.length > 0 ? { alternatives } : {}),
        rule: `no column links these ${entity.target}s to the record they belong to: they would load unlinked`,
      });
    }
    entities[name] = fields === entity.fields ? entity : { ...entity, fields };
  }
  return { spec: { ...spec, entities }, blocking };
}
