import type { SourceSystem } from '../mapping/spec.ts';
import { headerKey } from './profile.ts';

/**
 * Which practice system an export came from when its layout is not the one Ferry's profile reads
 * (an older version, a report download instead of the API export): the system still leaves marks in
 * the file set, the header vocabulary and the shapes of its values. None of these alone is proof
 * (many systems export "Appointments Report.csv" or "$1,150.00"), so a system is named only when its
 * header vocabulary (two of its words at least) and one other kind of evidence agree. Values are read in memory only;
 * the evidence names files, headers and shapes, never a value.
 */

/** A data file as the fingerprint reads it: stem, header and a few sampled rows (memory only). */
export interface FingerprintFile {
  readonly stem: string;
  readonly header: readonly string[];
  readonly sample: readonly (readonly string[])[];
}

export type EvidenceKind = 'file names' | 'header vocabulary' | 'value shapes';

export interface SystemIdentification {
  readonly source: Exclude<SourceSystem, 'generic'>;
  /** 0–1: the mean of the three kinds' scores. */
  readonly confidence: number;
  /** What was seen, per kind: file names, header names and shape names, never a value. */
  readonly evidence: readonly {
    readonly kind: EvidenceKind;
    readonly score: number;
    readonly seen: string[];
  }[];
}

interface ValueShape {
  readonly name: string;
  /** Whether one column (its header and sampled values) has this shape. */
  readonly test: (header: string, values: readonly string[]) => boolean;
}

interface SystemFingerprint {
  readonly source: Exclude<SourceSystem, 'generic'>;
  /** File stems (as header keys) this system's exports are named with, beyond words any system uses. */
  readonly fileNames: readonly RegExp[];
  /** Header keys this system's exports use and other systems' do not. */
  readonly vocabulary: ReadonlySet<string>;
  /** Header style: whether a whole file's header is written the way this system writes them. */
  readonly headerStyle?: { readonly name: string; readonly test: (header: readonly string[]) => boolean };
  readonly shapes: readonly ValueShape[];
}

/** Sampled values of a column, non-empty and trimmed. */
function filled(values: readonly string[]): string[] {
  return values.map((v) => v.trim()).filter((v) => v !== '');
}

/** At least three sampled values, and nine in ten of them match. */
function mostly(values: readonly string[], pattern: RegExp): boolean {
  const vals = filled(values);
  return vals.length >= 3 && vals.filter((v) => pattern.test(v)).length >= 0.9 * vals.length;
}

/**
 * APMS before its current export: dBase files (`PATMAST`, `TXPLAN`…) with terse upper-case field
 * names of at most ten characters, zero-padded account numbers, two-digit-year dates, HHMM times
 * and "LAST, FIRST" names.
 */
const APMS: SystemFingerprint = {
  source: 'apms',
  fileNames: [
    /^patmast/,
    /^txplan$/,
    /^txitems?$/,
    /^reminderlog$/,
    /^recalllog$/,
    /^patientcustomproperties$/,
  ],
  vocabulary: new Set(
    [
      'ACCTNO',
      'PATNAME',
      'DOCNO',
      'DOCNAME',
      'BDATE',
      'HPHONE',
      'WPHONE',
      'INSCO',
      'BAL_DUE',
      'REFSRC',
      'RECALL_DT',
      'APPT_DT',
      'APPT_TM',
      'SENT_DT',
      'SENT_TM',
      'TRAN_CD',
      'PLAN_DESC',
      'TOT_FEE',
      'ADA_CD',
      // the current export's own vocabulary (its "Pt …" columns)
      'Pt Acct #',
      'Pt Last Name',
      'Pt First Name',
      'Pt DOB',
    ].map(headerKey),
  ),
  headerStyle: {
    name: 'dBase field names (upper case, at most ten characters)',
    test: (header) => header.length >= 3 && header.every((h) => /^[A-Z][A-Z0-9_]{0,9}$/.test(h.trim())),
  },
  shapes: [
    { name: 'zero-padded account numbers', test: (_, v) => mostly(v, /^0\d{3,9}$/) },
    { name: 'two-digit-year dates (MM/DD/YY)', test: (_, v) => mostly(v, /^\d{2}\/\d{2}\/\d{2}$/) },
    {
      name: '24-hour HHMM times',
      test: (h, v) => /(tm|time)$/.test(headerKey(h)) && mostly(v, /^([01]\d|2[0-3])[0-5]\d$/),
    },
    {
      name: 'upper-case "LAST, FIRST" names',
      test: (_, v) => mostly(v, /^[A-Z][A-Z' -]+, [A-Z][A-Z' .-]+$/),
    },
  ],
};

/**
 * Practice by Numbers' report downloads ("Patient List Report", "Communications Log"): report
 * headers of its dashboards (`Sched. Production`, `Family Balance`, `Pt. Portion`), provider codes
 * such as DDS1 / HYG3, formatted money and 12-hour date-times.
 */
const PBN: SystemFingerprint = {
  source: 'pbn',
  fileNames: [/report$/, /^communicationslog$/, /^treatmentplanlineitems$/, /^patientbalances$/],
  vocabulary: new Set(
    [
      'Sched. Production',
      'Family Balance',
      'Monthly Goal',
      'Ins. Est.',
      'Pt. Portion',
      'Campaign',
      'Recall Status',
      'Treatment Coordinator',
      'Payment Plan Status',
      'Last Cleaning Date',
    ].map(headerKey),
  ),
  shapes: [
    {
      name: 'provider codes (a role abbreviation and a number)',
      test: (_, v) => mostly(v, /^(DDS|DMD|HYG|RDH|OMS|ORTH)\d{1,2}$/),
    },
    {
      name: '12-hour date-times (MM/DD/YYYY h:mm AM)',
      test: (_, v) => mostly(v, /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2} [AP]M$/),
    },
    {
      name: 'money with a dollar sign and thousands separators',
      test: (_, v) => mostly(v, /^-?\$\d{1,3}(,\d{3})*\.\d{2}$/),
    },
  ],
};

const FINGERPRINTS: readonly SystemFingerprint[] = [APMS, PBN];

/** File names at or above this count give the kind its full score; headers and shapes likewise. */
const FULL_FILES = 2;
const FULL_HEADERS = 4;
const FULL_SHAPES = 2;
/** Distinct words of a system's vocabulary an export must use before the system is named. */
const MIN_VOCABULARY = 2;
/** Below this confidence no system is named. */
export const IDENTIFY_THRESHOLD = 0.5;

function scoreSystem(fp: SystemFingerprint, files: readonly FingerprintFile[]): SystemIdentification {
  const names = files.filter((f) => fp.fileNames.some((re) => re.test(headerKey(f.stem)))).map((f) => f.stem);
  const headers = new Set<string>();
  for (const f of files) for (const h of f.header) if (fp.vocabulary.has(headerKey(h))) headers.add(h.trim());
  const styled = fp.headerStyle === undefined ? [] : files.filter((f) => fp.headerStyle?.test(f.header));
  // A house style across most files counts as one more word of the vocabulary.
  const styleHit = styled.length > 0 && styled.length >= 0.8 * files.length;
  const shapes = new Set<string>();
  for (const f of files)
    f.header.forEach((h, i) => {
      const values = f.sample.map((row) => row[i] ?? '');
      for (const shape of fp.shapes)
        if (!shapes.has(shape.name) && shape.test(h, values)) shapes.add(shape.name);
    });
  const fileScore = Math.min(1, names.length / FULL_FILES);
  const headerScore = Math.min(1, (headers.size + (styleHit ? 1 : 0)) / FULL_HEADERS);
  const shapeScore = Math.min(1, shapes.size / FULL_SHAPES);
  // The vocabulary must speak for the system (file names and value shapes alone are common to many),
  // with more than one word of it: one header such as "Campaign" can be any system's.
  const kinds = [fileScore, headerScore, shapeScore].filter((s) => s > 0).length;
  const confidence =
    headers.size < MIN_VOCABULARY || kinds < 2 ? 0 : (fileScore + headerScore + shapeScore) / 3;
  return {
    source: fp.source,
    confidence: Number(confidence.toFixed(3)),
    evidence: [
      { kind: 'file names', score: fileScore, seen: names },
      {
        kind: 'header vocabulary',
        score: headerScore,
        seen: [...headers, ...(styleHit && fp.headerStyle ? [fp.headerStyle.name] : [])],
      },
      { kind: 'value shapes', score: shapeScore, seen: [...shapes] },
    ],
  };
}

/**
 * The practice system whose marks the export carries, or undefined when none reaches
 * {@link IDENTIFY_THRESHOLD} (or two systems tie): then the export is generic.
 */
export function identifySystem(files: readonly FingerprintFile[]): SystemIdentification | undefined {
  const scored = FINGERPRINTS.map((fp) => scoreSystem(fp, files)).sort((a, b) => b.confidence - a.confidence);
  const [best, second] = scored;
  if (best === undefined || best.confidence < IDENTIFY_THRESHOLD) return undefined;
  if (second !== undefined && second.confidence === best.confidence) return undefined;
  return best;
}

/** One line for the operator: the kinds of evidence and what was seen, names only. */
export function describeEvidence(identification: SystemIdentification): string {
  return identification.evidence
    .filter((e) => e.seen.length > 0)
    .map((e) => `${e.kind}: ${e.seen.slice(0, 5).join(', ')}${e.seen.length > 5 ? ', …' : ''}`)
    .join('; ');
}
