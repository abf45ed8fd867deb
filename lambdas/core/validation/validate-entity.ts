import type { CompiledEntity, MappedRecord, SourceCells } from '../mapping/map-record.ts';
import type { Emails } from '../mapping/transforms/email.ts';
import type { Links } from '../mapping/transforms/links.ts';
import {
  append,
  emptyCounters,
  type FieldReject,
  type Reject,
  type ValidationCounters,
  type WarningCode,
} from './codes.ts';

/** One row as Segment hands it over: its 1-based line in the source file and its cells. */
export interface SourceRow {
  readonly line: number;
  /** null when the row could not be parsed into cells (wrong column count, broken quoting). */
  readonly cells: SourceCells | null;
  /** Rule the parser reported for a malformed row, e.g. 'column count matches header'. */
  readonly malformedRule?: string;
}

export type ValidatedRow =
  | {
      readonly ok: true;
      readonly line: number;
      readonly record: MappedRecord;
      readonly warnings: WarningCode[];
    }
  | { readonly ok: false; readonly line: number; readonly rejects: Reject[] };

/** What the validator needs to know about the rest of the export and the run. */
export interface EntityValidatorOptions {
  /** Source file name, as rejects report it (e.g. 'patients.csv'). */
  readonly file: string;
  readonly entity: CompiledEntity;
  /** Whether `sourceId` exists in `entity` of this export (accepted or not): relation targets. */
  readonly has: (entity: string, sourceId: string) => boolean;
  /**
   * Claims a source id for this entity; false when it was claimed before (DUPLICATE_SOURCE_ID).
   * Defaults to an in-memory set; parallel chunk loaders pass a shared (ledger-backed) one.
   */
  readonly claimSourceId?: (sourceId: string) => boolean;
  /**
   * Claims a primary email; false when another record already holds it (families). Defaults to an
   * in-memory set. Only accepted rows claim, so a rejected row never steals a family's email.
   */
  readonly claimEmail?: (email: string, sourceId: string) => boolean;
}

/** A streaming validator for one entity: feed rows in file order, read the counters at the end. */
export interface EntityValidator {
  check(row: SourceRow): ValidatedRow;
  readonly counters: ValidationCounters;
}

function memoryClaim(): (key: string) => boolean {
  const seen = new Set<string>();
  return (key) => {
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

/**
 * Validates an entity's rows on top of mapping: duplicate source ids (second and later
 * occurrences rejected — the first one claims the id even if it is rejected for another reason),
 * orphan references, and family emails (the first patient keeps the shared address as primary,
 * later ones carry it in additionalEmails with SHARED_EMAIL, or are rejected DUPLICATE_EMAIL when
 * the entity says `sharedEmail: reject`). Rejects carry locations and rules, never values.
 */
export function createEntityValidator(opts: EntityValidatorOptions): EntityValidator {
  const { file, entity, has } = opts;
  const entityName = entity.name;
  const claimId = opts.claimSourceId ?? memoryClaim();
  const claimEmail = opts.claimEmail ?? memoryClaim();
  const relations = Object.entries(entity.spec.relations);
  const targetRules = new Map(entity.spec.targets.map((t) => [t.entity, t.onMissing]));
  const emailFields = entity.emailFields;
  const sharedEmail = entity.spec.sharedEmail;
  // Twenty keeps a company's domain unique: locations of one practice often share one website.
  const domainField =
    entity.spec.target === 'company' && entity.spec.fields.domainName ? 'domainName' : undefined;
  const domains = new Set<string>();
  const counters = emptyCounters();

  function reject(line: number, sourceId: string | null, problems: FieldReject[]): ValidatedRow {
    counters.rejected++;
    const primary = problems[0]?.reason ?? 'MALFORMED_ROW';
    counters.rejectsByReason[primary] = (counters.rejectsByReason[primary] ?? 0) + 1;
    return {
      ok: false,
      line,
      rejects: problems.map((p) => ({
        file,
        line,
        entity: entityName,
        sourceId,
        field: p.field,
        reason: p.reason,
        rule: p.rule,
      })),
    };
  }

  function check(row: SourceRow): ValidatedRow {
    counters.rows++;
    if (row.cells === null)
      return reject(row.line, null, [
        { field: '(row)', reason: 'MALFORMED_ROW', rule: row.malformedRule ?? 'row parses' },
      ]);
    const mapped = entity.mapRow(row.cells);
    const sourceId = mapped.ok ? mapped.record.sourceId : mapped.sourceId;
    if (sourceId !== null && !claimId(sourceId))
      return reject(row.line, sourceId, [
        {
          field: entity.spec.idColumn,
          reason: 'DUPLICATE_SOURCE_ID',
          rule: 'source id unique within entity',
        },
      ]);
    if (!mapped.ok) return reject(row.line, sourceId, mapped.rejects);
    const record = mapped.record;
    let problems: FieldReject[] | undefined;
    let warnings = mapped.warnings;
    for (const [name, rel] of relations) {
      const ref = record.relations[name];
      if (ref === undefined || has(rel.entity, ref)) continue;
      if (rel.onMissing === 'reject')
        problems = append(problems, {
          field: name,
          reason: 'ORPHAN_REFERENCE',
          rule: `reference exists in ${rel.entity}`,
        });
      else {
        delete record.relations[name];
        warnings.push('REFERENCE_DROPPED');
      }
    }
    if (record.targets.length > 0) {
      for (let i = record.targets.length - 1; i >= 0; i--) {
        const t = record.targets[i];
        if (t === undefined || has(t.entity, t.sourceId)) continue;
        if (targetRules.get(t.entity) === 'reject')
          problems = append(problems, {
            field: `targets.${t.entity}`,
            reason: 'ORPHAN_REFERENCE',
            rule: `target exists in ${t.entity}`,
          });
        else {
          record.targets.splice(i, 1);
          warnings.push('REFERENCE_DROPPED');
        }
      }
    }
    if (problems !== undefined) return reject(row.line, sourceId, problems);
    for (const fieldName of emailFields) {
      const value = record.fields[fieldName] as Emails | undefined;
      const primary = value?.primaryEmail;
      if (value === undefined || primary === null || primary === undefined) continue;
      if (claimEmail(primary, record.sourceId)) continue;
      if (sharedEmail === 'reject')
        return reject(row.line, sourceId, [
          { field: fieldName, reason: 'DUPLICATE_EMAIL', rule: 'primary email unique within entity' },
        ]);
      record.fields[fieldName] = {
        primaryEmail: null,
        additionalEmails: [primary, ...value.additionalEmails.filter((e) => e !== primary)],
      } satisfies Emails;
      if (warnings === mapped.warnings) warnings = [...warnings];
      warnings.push('SHARED_EMAIL');
    }
    const link = domainField === undefined ? undefined : (record.fields[domainField] as Links | undefined);
    const url = link?.primaryLinkUrl;
    if (link !== undefined && typeof url === 'string' && url !== '') {
      const key = url
        .toLowerCase()
        .replace(/^https?:\/\//, '')
        .replace(/^www\./, '')
        .replace(/\/+$/, '');
      if (domains.has(key)) {
        // A later location keeps the shared website as a secondary link instead of being refused.
        record.fields[domainField as string] = {
          primaryLinkUrl: '',
          primaryLinkLabel: '',
          secondaryLinks: [{ url, label: link.primaryLinkLabel ?? '' }, ...(link.secondaryLinks ?? [])],
        };
        if (warnings === mapped.warnings) warnings = [...warnings];
        warnings.push('SHARED_DOMAIN');
      } else domains.add(key);
    }
    counters.accepted++;
    for (const w of warnings) counters.warningsByCode[w] = (counters.warningsByCode[w] ?? 0) + 1;
    return { ok: true, line: row.line, record, warnings };
  }

  return { check, counters };
}

/**
 * Streams an entity's rows through a fresh validator; returns the counters when the rows end.
 * Constant memory apart from the claimed ids/emails sets.
 */
export function* validateEntity(
  rows: Iterable<SourceRow>,
  opts: EntityValidatorOptions,
): Generator<ValidatedRow, ValidationCounters, undefined> {
  const validator = createEntityValidator(opts);
  for (const row of rows) yield validator.check(row);
  return validator.counters;
}

/** Async variant for rows read from S3 chunk streams. */
export async function* validateEntityAsync(
  rows: AsyncIterable<SourceRow>,
  opts: EntityValidatorOptions,
): AsyncGenerator<ValidatedRow, ValidationCounters, undefined> {
  const validator = createEntityValidator(opts);
  for await (const row of rows) yield validator.check(row);
  return validator.counters;
}
