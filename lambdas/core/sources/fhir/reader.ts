import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { CsvReadResult, CsvRowView, CsvVisitor, LineRejectReason } from '../../csv/reader.ts';
import { columnsOf, FHIR_COLUMNS, flattenResource } from './flatten.ts';

/**
 * Reads one bulk-export NDJSON file as rows of its resource type's canonical columns
 * ({@link columnsOf}), through the same visitor a CSV file is read with, so Inventory counts and
 * Segment chunks it exactly as they do a CSV. Every non-blank line ends as a row or a reject with a
 * reason and its line number — never an exception: not UTF-8 (ENCODING_ERROR), not JSON
 * (INVALID_JSON), JSON that is not a FHIR resource (NOT_FHIR_RESOURCE), a resource of another type
 * than the file's (UNEXPECTED_RESOURCE_TYPE). Constant memory: one line at a time.
 */

/** The reject reasons of a FHIR line. */
export const FHIR_LINE_REASONS = ['INVALID_JSON', 'NOT_FHIR_RESOURCE', 'UNEXPECTED_RESOURCE_TYPE'] as const;

/** The cell of an inline attachment whose `data` is not base64. */
export const INVALID_INLINE = '!invalid-base64';

/** The cell of a valid inline attachment when it is not stored (Inventory's pass). */
export const UNSTORED_INLINE = '!inline';

/**
 * Resource types a reject may name. A `resourceType` outside this list is reported as "another
 * type" without its text: the field is free JSON, and a reject never quotes a value.
 */
const NAMED_TYPES: ReadonlySet<string> = new Set([
  ...Object.keys(FHIR_COLUMNS),
  'Account',
  'AllergyIntolerance',
  'Binary',
  'Bundle',
  'CarePlan',
  'CareTeam',
  'ClaimResponse',
  'Communication',
  'Condition',
  'Consent',
  'Device',
  'DiagnosticReport',
  'Endpoint',
  'EpisodeOfCare',
  'FamilyMemberHistory',
  'Goal',
  'Group',
  'HealthcareService',
  'ImagingStudy',
  'Immunization',
  'Location',
  'Media',
  'Medication',
  'MedicationAdministration',
  'MedicationDispense',
  'MedicationRequest',
  'MedicationStatement',
  'Observation',
  'OperationOutcome',
  'Person',
  'Procedure',
  'Provenance',
  'QuestionnaireResponse',
  'RelatedPerson',
  'Schedule',
  'ServiceRequest',
  'Slot',
  'Specimen',
]);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface ReadFhirOptions {
  /** File name in the drop folder (rejects and messages name it). */
  readonly file: string;
  /** The file's resource type (from the manifest). */
  readonly resourceType: string;
  /**
   * Stores the decoded bytes of a DocumentReference's inline attachment and returns where (Segment
   * writes them to the work bucket); absent, inline data is only checked.
   */
  readonly storeInline?: (line: number, bytes: Buffer) => Promise<string>;
  /** Practitioner id → email (Segment reads them first): fills `practitioner.email` cells. */
  readonly practitionerEmails?: ReadonlyMap<string, string>;
}

class RecordRow implements CsvRowView {
  line = 0;
  values: string[] = [];
  get width(): number {
    return this.values.length;
  }
  cell(index: number): string {
    return this.values[index] ?? '';
  }
  isEmpty(index: number): boolean {
    return (this.values[index] ?? '').trim() === '';
  }
  cells(): string[] {
    return [...this.values];
  }
}

type LineOutcome =
  | { readonly kind: 'row'; readonly cells: Record<string, string> }
  | { readonly kind: 'reject'; readonly reason: LineRejectReason; readonly detail: string };

/** What one NDJSON line is: a resource of the file's type (flattened), or why not. */
export function classifyLine(text: string, resourceType: string): LineOutcome {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'reject', reason: 'INVALID_JSON', detail: 'the line is not valid JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { kind: 'reject', reason: 'NOT_FHIR_RESOURCE', detail: 'the line is not a JSON object' };
  const type = (json as Record<string, unknown>).resourceType;
  if (typeof type !== 'string' || !/^[A-Z][A-Za-z]+$/.test(type))
    return { kind: 'reject', reason: 'NOT_FHIR_RESOURCE', detail: 'the object has no resourceType' };
  if (type !== resourceType)
    return {
      kind: 'reject',
      reason: 'UNEXPECTED_RESOURCE_TYPE',
      detail: NAMED_TYPES.has(type)
        ? `a resource of type ${type} in a file of ${resourceType} resources`
        : `a resource of another type in a file of ${resourceType} resources`,
    };
  return { kind: 'row', cells: flattenResource(type, json as Record<string, unknown>) };
}

/** Streams a FHIR NDJSON file into the visitor; the result has the shape of a CSV read's. */
export async function readFhirNdjson(
  stream: Readable,
  options: ReadFhirOptions,
  visitor: CsvVisitor,
): Promise<CsvReadResult> {
  const header = [...columnsOf(options.resourceType)];
  const inlineAt = header.indexOf('attachment.inline');
  const sizeAt = header.indexOf('attachment.size');
  const practitionerAt = header.indexOf('practitioner');
  const practitionerEmailAt = header.indexOf('practitioner.email');
  const hash = createHash('sha256');
  const rejectedByReason: Record<string, number> = {};
  let bytes = 0;
  let lineNo = 0;
  let rows = 0;
  let rejected = 0;
  let blankLines = 0;
  let sawCrLf = false;
  const row = new RecordRow();
  visitor.header?.(header, 1);

  const handle = async (raw: Buffer): Promise<void> => {
    lineNo++;
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0d) {
      end--;
      sawCrLf = true;
    }
    const buf = raw.subarray(0, end);
    const text = buf.toString('utf8');
    if (text.trim() === '') {
      blankLines++;
      return;
    }
    rows++;
    const outcome: LineOutcome = isUtf8(buf)
      ? classifyLine(text.replace(/^\uFEFF/, ''), options.resourceType)
      : { kind: 'reject', reason: 'ENCODING_ERROR', detail: 'the line is not valid UTF-8' };
    if (outcome.kind === 'reject') {
      rejected++;
      rejectedByReason[outcome.reason] = (rejectedByReason[outcome.reason] ?? 0) + 1;
      visitor.reject?.({ file: options.file, line: lineNo, reason: outcome.reason, detail: outcome.detail });
      return;
    }
    const values = header.map((c) => outcome.cells[c] ?? '');
    if (practitionerEmailAt >= 0 && options.practitionerEmails !== undefined)
      values[practitionerEmailAt] = options.practitionerEmails.get(values[practitionerAt] ?? '') ?? '';
    if (inlineAt >= 0 && values[inlineAt] !== '') {
      const data = values[inlineAt] as string;
      if (!BASE64.test(data)) values[inlineAt] = INVALID_INLINE;
      else {
        const decoded = Buffer.from(data, 'base64');
        values[inlineAt] =
          options.storeInline === undefined ? UNSTORED_INLINE : await options.storeInline(lineNo, decoded);
        if (sizeAt >= 0) values[sizeAt] = String(decoded.byteLength);
      }
    }
    row.line = lineNo;
    row.values = values;
    visitor.row?.(row);
  };

  // The unfinished line's parts, joined once its newline arrives (a long inline document spans
  // many stream chunks: no re-copy per chunk).
  let pending: Buffer[] = [];
  for await (const part of stream) {
    const chunk = typeof part === 'string' ? Buffer.from(part) : Buffer.from(part as Uint8Array);
    bytes += chunk.byteLength;
    hash.update(chunk);
    let start = 0;
    let nl = chunk.indexOf(0x0a);
    while (nl >= 0) {
      const piece = chunk.subarray(start, nl);
      await handle(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
      pending = [];
      start = nl + 1;
      nl = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    await visitor.drain?.();
  }
  if (pending.length > 0) await handle(Buffer.concat(pending));
  await visitor.drain?.();

  return {
    bytes,
    sha256: hash.digest('hex'),
    bom: false,
    delimiter: ',',
    delimiterDetected: false,
    lineEnding: sawCrLf ? 'crlf' : 'lf',
    header,
    headerLine: null,
    rows,
    accepted: rows - rejected,
    rejected,
    rejectedByReason: rejectedByReason as CsvReadResult['rejectedByReason'],
    blankLines,
    warnings: [],
  };
}
