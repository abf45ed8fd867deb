import type { EntitySpecInput, FieldSpecInput, MappingSpecInput, SourceSystem } from '../mapping/spec.ts';
import { apmsProfile } from './apms.ts';
import { fhirProfile } from './fhir.ts';
import { genericProfile } from './generic.ts';
import { pbnProfile } from './pbn.ts';
import { entitiesOf, headerKey, type SourceProfile } from './profile.ts';

export { apmsProfile } from './apms.ts';
export { type DropFileRef, dropFileOf, missingFileReject } from './drop-file.ts';
export { fhirProfile } from './fhir.ts';
export { genericProfile } from './generic.ts';
export { pbnProfile } from './pbn.ts';
export {
  bindPivots,
  buildPivotIndex,
  createPivotIndex,
  type EntityPivot,
  type InferredFieldType,
  inferPivotFields,
  PIVOTED,
  type PivotField,
  PivotIndex,
  type PivotReject,
  type PivotRowReader,
  type PivotSettlement,
  type PivotSourceRow,
  pivotFieldSpec,
  withPivot,
} from './pivot.ts';
export type { PivotSpec, ReferenceSpec, SourceProfile } from './profile.ts';
export { headerKey } from './profile.ts';
export {
  buildWorkflowReference,
  buildWorkflowReferenceFromRecords,
  NOT_MIGRATED_WORKFLOW,
  type WorkflowDefinition,
  type WorkflowReference,
} from './workflows.ts';

import { fileGlob } from '../mapping/file-glob.ts';

/** One file of a drop folder as Inventory sees it: name without extension, and its header row. */
export interface SourceFile {
  readonly stem: string;
  readonly header: readonly string[];
}

export interface FileMatch {
  readonly stem: string;
  /** Entity key in the profile (mapping entity, pivot or reference). */
  readonly entity: string;
  /** Share of the entity's signature columns found in the header (0–1). */
  readonly score: number;
}

export interface SourceDetection {
  readonly source: SourceSystem;
  /** 0–1: how much of the folder the chosen profile explains. */
  readonly confidence: number;
  readonly matchedEntities: string[];
  readonly files: FileMatch[];
}

/** Every shipped profile; detection tries each but the generic one, in this order. */
const PROFILES: Record<SourceSystem, SourceProfile> = {
  apms: apmsProfile,
  pbn: pbnProfile,
  generic: genericProfile,
  fhir: fhirProfile,
};

/** The shipped profile of a source system. */
export function profileFor(source: SourceSystem): SourceProfile {
  return PROFILES[source];
}

interface EntitySignature {
  readonly entity: string;
  readonly files: readonly string[];
  readonly signature: readonly string[];
}

function signaturesOf(profile: SourceProfile): EntitySignature[] {
  const out: EntitySignature[] = [];
  for (const [entity, spec] of Object.entries(entitiesOf(profile)))
    out.push({ entity, files: spec.files, signature: spec.headerSignature ?? [spec.idColumn] });
  for (const p of profile.pivots)
    out.push({ entity: p.entity, files: p.files, signature: p.headerSignature });
  for (const r of profile.references)
    out.push({ entity: r.entity, files: r.files, signature: r.headerSignature });
  return out;
}

/** A file pattern against a file's stem: the pattern without its extension (`Patient*.csv` → `Patient*`). */
function stemGlob(glob: string): RegExp {
  return fileGlob(glob.replace(/\.[^.*?]+$/, ''));
}

/** Spellings (as header keys) accepted for a canonical column: itself plus its aliases. */
function spellings(profile: SourceProfile, column: string): string[] {
  return [column, ...(profile.headerAliases[column] ?? [])].map(headerKey);
}

function scoreFile(profile: SourceProfile, file: SourceFile, sig: EntitySignature): number {
  const keys = new Set(file.header.map(headerKey));
  if (sig.signature.length === 0) return 0;
  let found = 0;
  for (const column of sig.signature) if (spellings(profile, column).some((k) => keys.has(k))) found++;
  const columns = found / sig.signature.length;
  const named = sig.files.some((g) => stemGlob(g).test(file.stem)) ? 0.15 : 0;
  return Math.min(1, columns + (columns > 0 ? named : 0));
}

function byHeaderKey(file: SourceFile): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const h of file.header) if (!byKey.has(headerKey(h))) byKey.set(headerKey(h), h);
  return byKey;
}

function matchFiles(profile: SourceProfile, files: readonly SourceFile[]): FileMatch[] {
  const sigs = signaturesOf(profile);
  const matches: FileMatch[] = [];
  for (const file of files) {
    let best: FileMatch | null = null;
    for (const sig of sigs) {
      const score = scoreFile(profile, file, sig);
      if (score >= 0.65 && (best === null || score > best.score))
        best = { stem: file.stem, entity: sig.entity, score };
    }
    if (best !== null) matches.push(best);
  }
  return matches;
}

/**
 * Decides which source system exported a folder from file names and header rows alone (no
 * values are read, so detection needs no PHI). A profile's confidence is the mean of the share
 * of files it explains and the share of its entities found; below 0.5 the folder is `generic`
 * and needs a user-written mapping.
 */
export function detectSource(files: readonly SourceFile[]): SourceDetection {
  let best: SourceDetection = { source: 'generic', confidence: 0, matchedEntities: [], files: [] };
  if (files.length === 0) return best;
  for (const profile of Object.values(PROFILES)) {
    if (profile.source === 'generic') continue;
    const matches = matchFiles(profile, files);
    const entities = [...new Set(matches.map((m) => m.entity))].sort();
    const total = signaturesOf(profile).length;
    const meanScore = matches.reduce((s, m) => s + m.score, 0) / Math.max(1, matches.length);
    const confidence = Number(
      ((0.5 * matches.length) / files.length + (0.5 * entities.length) / total) *
        (matches.length > 0 ? meanScore : 0),
    ).toFixed(3);
    const c = Number(confidence);
    if (c > best.confidence)
      best = { source: profile.source, confidence: c, matchedEntities: entities, files: matches };
  }
  if (best.confidence < 0.5) {
    return {
      source: 'generic',
      confidence: Number((1 - best.confidence).toFixed(3)),
      matchedEntities: [],
      files: [],
    };
  }
  return best;
}

function rebindColumn(column: string, profile: SourceProfile, byKey: ReadonlyMap<string, string>): string {
  for (const k of spellings(profile, column)) {
    const actual = byKey.get(k);
    if (actual !== undefined) return actual;
  }
  return column;
}

function rebindField(field: FieldSpecInput, rebind: (c: string) => string): FieldSpecInput {
  const from = field.from;
  if (from === undefined) return field;
  const next =
    typeof from === 'string'
      ? rebind(from)
      : Array.isArray(from)
        ? from.map(rebind)
        : Object.fromEntries(Object.entries(from).map(([part, c]) => [part, rebind(c)]));
  return { ...field, from: next };
}

/**
 * Specializes a profile's default mapping to the files actually dropped: each entity reads the
 * file detected for it, and every column reference uses the header spelling that file has
 * (aliases resolved), so an export with "E-mail" instead of "Email" maps without edits.
 * Entities with no file are left out, with relations and targets to them.
 */
export function bindProfile(
  profile: SourceProfile,
  files: readonly SourceFile[],
  fileNames?: Readonly<Record<string, string>>,
): MappingSpecInput {
  const matches = matchFiles(profile, files);
  const entities: Record<string, EntitySpecInput> = {};
  const specs = entitiesOf(profile);
  for (const [name, spec] of Object.entries(specs)) {
    const match = matches.find((m) => m.entity === name);
    if (match === undefined) continue;
    const file = files.find((f) => f.stem === match.stem) as SourceFile;
    const byKey = byHeaderKey(file);
    const rebind = (c: string): string => rebindColumn(c, profile, byKey);
    const { pivot, ...rest } = spec;
    // The pivot file is matched like any file (profile.pivots names it for detection).
    const pivotMatch =
      pivot === undefined
        ? undefined
        : matches.find((m) => profile.pivots.some((p) => p.entity === m.entity && p.into === name));
    const pivotFile = files.find((f) => f.stem === pivotMatch?.stem);
    const rebindPivot = (c: string): string =>
      pivotFile === undefined ? c : rebindColumn(c, profile, byHeaderKey(pivotFile));
    entities[name] = {
      ...rest,
      ...(pivot !== undefined && pivotMatch !== undefined
        ? {
            pivot: {
              ...pivot,
              files: [fileNames?.[pivotMatch.stem] ?? `${pivotMatch.stem}.csv`],
              idColumn: rebindPivot(pivot.idColumn),
              nameColumn: rebindPivot(pivot.nameColumn),
              valueColumn: rebindPivot(pivot.valueColumn),
              headerSignature: pivot.headerSignature?.map(rebindPivot),
            },
          }
        : {}),
      ...(spec.owner !== undefined ? { owner: { ...spec.owner, from: rebind(spec.owner.from) } } : {}),
      ...(spec.file !== undefined ? { file: { ...spec.file, from: rebind(spec.file.from) } } : {}),
      ...(spec.skipIfMember !== undefined ? { skipIfMember: { from: rebind(spec.skipIfMember.from) } } : {}),
      files: [fileNames?.[match.stem] ?? `${match.stem}.csv`],
      idColumn: rebind(spec.idColumn),
      headerSignature: spec.headerSignature?.map(rebind),
      fields: Object.fromEntries(
        Object.entries(spec.fields ?? {}).map(([f, fs]) => [f, rebindField(fs, rebind)]),
      ),
      relations: Object.fromEntries(
        Object.entries(spec.relations ?? {}).map(([r, rel]) => [r, { ...rel, from: rebind(rel.from) }]),
      ),
      targets: (spec.targets ?? []).map((t) => ({ ...t, from: rebind(t.from) })),
    };
  }
  for (const spec of Object.values(entities)) {
    spec.relations = Object.fromEntries(
      Object.entries(spec.relations ?? {}).filter(([, r]) => r.entity in entities),
    );
    spec.targets = (spec.targets ?? []).filter((t) => t.entity in entities);
  }
  return { ...profile.mapping, entities };
}
