import {
  type ExcludedColumn,
  type ProfileHints,
  proposeMapping,
  type SampledFile,
} from '../mapping/auto-mapper.ts';
import { fileGlob } from '../mapping/file-glob.ts';
import { phiVerdict } from '../mapping/phi.ts';
import { type BlockingIssue, reviewMapping } from '../mapping/review.ts';
import {
  type EntitySpec,
  type MappingSpec,
  type MappingSpecInput,
  parseMappingSpec,
  type SourceSystem,
} from '../mapping/spec.ts';
import { describeEvidence, identifySystem } from '../sources/fingerprint.ts';
import { bindProfile, detectSource, profileFor, type SourceDetection } from '../sources/index.ts';

/** A data file as the mapping proposal sees it: plan stem and name, header, a few sample rows (memory only). */
export interface MappingFile extends SampledFile {
  /** File name inside the drop folder (what the spec's `files` list). */
  readonly name: string;
}

export { type ColumnKeys, columnKeysFromRows } from './column-keys.ts';

/** Where the run's mapping came from: a shipped profile, the operator's YAML, or the auto-mapper. */
export type MappingOrigin = 'profile' | 'operator' | 'auto';

/** `plan.json .mapping`: the spec and how sure Ferry is of each column, without any value. */
export interface MappingPlan {
  readonly source: SourceSystem;
  readonly origin: MappingOrigin;
  readonly detection: Pick<SourceDetection, 'source' | 'confidence' | 'matchedEntities'> & {
    /** What the system was told by when the profile's columns are not there: file names, headers, value shapes (names only). */
    readonly evidence?: string;
    /** Why the detected system's profile does not map this export (the auto-mapper does, for that system). */
    readonly profile?: string;
  };
  readonly spec: MappingSpec;
  /** entity → column → 0..1. */
  readonly confidence: Record<string, Record<string, number>>;
  /** Columns no field, relation, target or owner reads (they are not migrated unless mapped). */
  readonly unmappedColumns: { file: string; column: string }[];
  /** Files no entity reads (pivots and references of the profile are listed separately). */
  readonly unmappedFiles: string[];
  /** Files the profile reads as long-format properties or keeps only as a rebuild reference. */
  readonly auxiliaryFiles: { file: string; entity: string; kind: 'pivot' | 'reference' }[];
  /** Columns the PHI policy excludes (SSN-like), never migrated. */
  readonly excluded: ExcludedColumn[];
  /**
   * Critical fields the export's values contradict or the names could not settle (the plan gate):
   * `ferry run --yes` stops before any write until `--mapping` or `--accept-plan`. Empty for an operator mapping.
   */
  readonly blocking: BlockingIssue[];
  /**
   * Every parent link of the spec (relation or activity target) with how many of its sampled
   * non-blank values are ids of the parent's file: counts only, never a value.
   */
  readonly links: ParentLink[];
}

/** A child's link to its parent as the sampled values bear it out. */
export interface ParentLink {
  readonly entity: string;
  readonly file: string;
  readonly column: string;
  readonly parent: string;
  readonly parentFile: string;
  /** Non-blank sampled values of the column. */
  readonly sampled: number;
  /** Of those, the ones that are ids of the parent's file (all of its key values when Inventory kept them). */
  readonly resolved: number;
}

export interface MappingChoice {
  /** `auto` (or absent) detects; a system name forces its profile (generic = the auto-mapper). */
  readonly source?: SourceSystem | 'auto';
  /** The operator's mapping (parsed YAML), which wins over any profile. */
  readonly operatorSpec?: MappingSpec;
}

/** Every column an entity spec reads. */
export function columnsRead(entity: EntitySpec): Set<string> {
  const columns = new Set<string>([entity.idColumn, ...(entity.idColumns ?? [])]);
  for (const field of Object.values(entity.fields)) {
    const from = field.from;
    if (typeof from === 'string') columns.add(from);
    else if (Array.isArray(from)) for (const c of from) columns.add(c);
    else for (const c of Object.values(from)) columns.add(c);
  }
  for (const relation of Object.values(entity.relations)) columns.add(relation.from);
  for (const target of entity.targets) columns.add(target.from);
  if (entity.owner) columns.add(entity.owner.from);
  return columns;
}

/**
 * The columns an operator's mapping reads that a file it maps does not have, as `entities.<entity>
 * reads <column>, which <file> does not have`. A column missing from the file would read as blank in
 * every row — people loaded without first names, tasks without dates — so Inventory refuses such a
 * mapping instead. Pivot entities' fields read property names, not columns, and are not checked; a
 * file with no header (empty) has no rows to read.
 */
export function columnsMissing(spec: MappingSpec, files: readonly MappingFile[]): string[] {
  const missing: string[] = [];
  for (const [name, entity] of Object.entries(spec.entities)) {
    const read =
      entity.pivot === undefined
        ? columnsRead(entity)
        : new Set([entity.idColumn, ...(entity.idColumns ?? []), ...entity.targets.map((t) => t.from)]);
    if (entity.file !== undefined) read.add(entity.file.from);
    if (entity.skipIfMember !== undefined) read.add(entity.skipIfMember.from);
    for (const file of filesOf(entity, files)) {
      if (file.header.length === 0) continue;
      const header = new Set(file.header);
      for (const column of read)
        if (!header.has(column))
          missing.push(`entities.${name} reads column ${column}, which ${file.name} does not have`);
    }
  }
  return missing;
}

/** The data files an entity spec reads (its `files` globs against the folder's names). */
export function filesOf(entity: Pick<EntitySpec, 'files'>, files: readonly MappingFile[]): MappingFile[] {
  const patterns = entity.files.map(fileGlob);
  return files.filter((f) => patterns.some((p) => p.test(f.name)));
}

function uniqueName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}${k}`;
  return name;
}

/** Share of the columns a bound profile entity reads that its file has, below which the profile does not fit. */
const PROFILE_COVERAGE = 0.8;

/**
 * Where a bound profile does not fit the files it claims: the first file with under
 * {@link PROFILE_COVERAGE} of the columns its entity reads (undefined when every file fits, or the
 * profile claims no file).
 */
function profileMisfit(
  source: SourceSystem,
  headers: readonly { stem: string; header: readonly string[] }[],
  files: readonly MappingFile[],
): { file: string; share: number } | undefined {
  const profile = profileFor(source);
  const names = Object.fromEntries(files.map((f) => [f.stem, f.name]));
  const bound = parseMappingSpec(bindProfile(profile, headers, names), `${source} profile`);
  for (const entity of Object.values(bound.entities)) {
    const [file] = filesOf(entity, files);
    if (file === undefined) continue;
    const header = new Set(file.header);
    const read = [...columnsRead(entity)];
    const present = read.filter((c) => header.has(c)).length;
    if (read.length > 0 && present / read.length < PROFILE_COVERAGE)
      return { file: file.name, share: present / read.length };
  }
  return undefined;
}

const pct = (n: number): string => `${Math.round(n * 100)}%`;

/** What the auto-mapper is told of a known system: its name (the ids' namespace), date order and country. */
function hintsFor(source: SourceSystem): ProfileHints {
  const known = profileFor(source).mapping.options;
  return {
    source,
    ...(known?.dateOrder !== undefined && known.dateOrder !== 'auto' ? { dateOrder: known.dateOrder } : {}),
    ...(known?.defaultCountry !== undefined ? { defaultCountry: known.defaultCountry } : {}),
  };
}

/**
 * Decides the run's mapping: the operator's spec when given; otherwise the detected (or forced)
 * profile bound to the dropped files, with the auto-mapper proposing entities for files the
 * profile does not know; for a generic folder the auto-mapper alone. Reports per-column
 * confidence, unread columns and files, and PHI exclusions — names only, never values.
 */
export function planMapping(files: readonly MappingFile[], choice: MappingChoice = {}): MappingPlan {
  const headers = files.map((f) => ({ stem: f.stem, header: f.header }));
  const detected = detectSource(headers);
  const auto = choice.source === undefined || choice.source === 'auto';
  let source: SourceSystem = choice.operatorSpec?.source ?? (auto ? detected.source : choice.source);
  let detection: MappingPlan['detection'] = {
    source: detected.source,
    confidence: detected.confidence,
    matchedEntities: detected.matchedEntities,
  };
  // A detected (not forced) profile must fit the files it claims: when the columns its mapping reads
  // are mostly absent from a file, the export only looks like that system by its file names, and the
  // auto-mapper (which reads the columns that are there) maps it instead.
  let misfit: string | undefined;
  if (choice.operatorSpec === undefined && auto && source !== 'generic') {
    const wrong = profileMisfit(source, headers, files);
    if (wrong !== undefined) {
      misfit = `the ${source} profile does not apply: ${wrong.file} has ${pct(wrong.share)} of the columns it reads (it needs ${pct(PROFILE_COVERAGE)})`;
      source = 'generic';
    }
  }
  // An export of a known system in a layout its profile does not read (an older version, report
  // downloads) still carries that system's file names, header vocabulary and value shapes: it is
  // reported as that system and the auto-mapper maps it with what Ferry knows of the system.
  let system: SourceSystem | undefined;
  if (choice.operatorSpec === undefined && auto && source === 'generic') {
    const identified = identifySystem(files);
    if (identified !== undefined) {
      system = identified.source;
      const ownMisfit = identified.source === detected.source ? misfit : undefined;
      detection = {
        source: identified.source,
        confidence: identified.confidence,
        matchedEntities: [],
        evidence: describeEvidence(identified),
        profile:
          ownMisfit ??
          `the ${identified.source} profile does not apply: no file has the columns it reads (the ${profileFor(identified.source).label} export it was written for)`,
      };
    } else if (misfit !== undefined)
      detection = {
        source: 'generic',
        confidence: Number((1 - detected.confidence).toFixed(3)),
        matchedEntities: [],
        profile: `${misfit}, and nothing else in the export is a mark of ${detected.source}`,
      };
  }
  const confidence: Record<string, Record<string, number>> = {};
  const excluded: ExcludedColumn[] = [];
  const auxiliaryFiles: MappingPlan['auxiliaryFiles'] = [];
  let spec: MappingSpec;
  let origin: MappingOrigin;

  if (choice.operatorSpec) {
    origin = 'operator';
    spec = choice.operatorSpec;
    for (const [name, entity] of Object.entries(spec.entities))
      confidence[name] = Object.fromEntries([...columnsRead(entity)].map((c) => [c, 1]));
  } else if (source === 'generic') {
    origin = 'auto';
    // A file with no header (empty, or blank lines only) has nothing to map: the plan warns EMPTY_FILE.
    const proposal = proposeMapping(
      files.filter((f) => f.header.length > 0),
      hintsFor(system ?? 'generic'),
    );
    spec = parseMappingSpec(proposal.spec, 'proposed mapping');
    Object.assign(confidence, proposal.confidence);
    excluded.push(...proposal.excluded);
  } else {
    origin = 'profile';
    const profile = profileFor(source);
    const names = Object.fromEntries(files.map((f) => [f.stem, f.name]));
    const bound: MappingSpecInput = bindProfile(profile, headers, names);
    const forced = source !== detected.source;
    const scoreOf = new Map(detected.files.map((m) => [m.entity, m.score]));
    const entities = { ...bound.entities };
    const parsedProfile = parseMappingSpec({ ...bound, entities }, `${source} profile`);
    for (const [name, entity] of Object.entries(parsedProfile.entities)) {
      const score = forced ? 0.5 : (scoreOf.get(name) ?? 1);
      confidence[name] = Object.fromEntries([...columnsRead(entity)].map((c) => [c, Number(score)]));
    }
    const claimed = new Set<string>();
    for (const entity of Object.values(entities))
      for (const f of filesOf({ files: entity.files }, files)) claimed.add(f.name);
    for (const aux of [
      ...profile.pivots.map((p) => ({ ...p, kind: 'pivot' as const })),
      ...profile.references.map((r) => ({ ...r, kind: 'reference' as const })),
    ]) {
      const match = detected.files.find((m) => m.entity === aux.entity);
      const file = files.find((f) => f.stem === match?.stem);
      if (file) {
        claimed.add(file.name);
        auxiliaryFiles.push({ file: file.name, entity: aux.entity, kind: aux.kind });
      }
    }
    const unknown = files.filter((f) => !claimed.has(f.name));
    const customObjects = [...(bound.customObjects ?? [])];
    if (unknown.length > 0) {
      const proposal = proposeMapping(unknown, hintsFor(source));
      const taken = new Set(Object.keys(entities));
      for (const [name, entity] of Object.entries(proposal.spec.entities)) {
        const unique = uniqueName(name, taken);
        taken.add(unique);
        entities[unique] = entity;
        confidence[unique] = proposal.confidence[name] ?? {};
      }
      for (const object of proposal.spec.customObjects ?? [])
        if (!customObjects.some((o) => o.nameSingular === object.nameSingular)) customObjects.push(object);
      excluded.push(...proposal.excluded);
    }
    spec = parseMappingSpec({ ...bound, entities, customObjects }, `${source} profile`);
  }

  let blocking: BlockingIssue[] = [];
  if (origin !== 'operator') {
    const reviewed = reviewMapping(spec, files, confidence, (entity) => filesOf(entity, files));
    spec = reviewed.spec;
    blocking = reviewed.blocking;
  }

  const read = new Map<string, Set<string>>();
  for (const entity of Object.values(spec.entities))
    for (const file of filesOf(entity, files)) {
      const set = read.get(file.name) ?? new Set<string>();
      for (const c of columnsRead(entity)) set.add(c);
      read.set(file.name, set);
    }
  const auxiliary = new Set(auxiliaryFiles.map((a) => a.file));
  const unmappedColumns: MappingPlan['unmappedColumns'] = [];
  const unmappedFiles: string[] = [];
  for (const file of files) {
    const columns = read.get(file.name);
    if (columns === undefined) {
      if (!auxiliary.has(file.name)) unmappedFiles.push(file.name);
      continue;
    }
    for (const column of file.header) {
      if (columns.has(column)) continue;
      const verdict = phiVerdict(column, spec.phi);
      if (verdict !== 'allowed') {
        const rule = verdict === 'ssn' ? 'never migrated (SSN)' : 'phi.neverMigrate';
        if (!excluded.some((e) => e.file === file.name && e.column === column))
          excluded.push({ file: file.name, column, rule });
      } else unmappedColumns.push({ file: file.name, column });
    }
  }
  return {
    source: system ?? source,
    origin,
    detection,
    spec,
    confidence,
    unmappedColumns,
    unmappedFiles,
    auxiliaryFiles,
    excluded,
    blocking,
    links: parentLinks(spec, files),
  };
}

/** The ids of a parent entity's file: every key value Inventory kept, else the sampled ids. */
function idsOf(entity: EntitySpec, file: MappingFile): ReadonlySet<string> | undefined {
  if (entity.idColumns !== undefined) return undefined;
  const kept = file.keys?.[entity.idColumn];
  if (kept !== undefined) return kept;
  const i = file.header.indexOf(entity.idColumn);
  return i < 0 ? undefined : new Set(file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== ''));
}

/** How far each parent link of the spec is borne out by the sampled values (counts only). */
export function parentLinks(spec: MappingSpec, files: readonly MappingFile[]): ParentLink[] {
  const links: ParentLink[] = [];
  for (const [name, entity] of Object.entries(spec.entities)) {
    const [own] = filesOf(entity, files);
    if (own === undefined) continue;
    for (const link of [...Object.values(entity.relations), ...entity.targets]) {
      const parent = spec.entities[link.entity];
      const [parentFile] = parent === undefined ? [] : filesOf(parent, files);
      const i = own.header.indexOf(link.from);
      if (parent === undefined || parentFile === undefined || i < 0) continue;
      const ids = idsOf(parent, parentFile);
      if (ids === undefined) continue;
      const values = own.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
      links.push({
        entity: name,
        file: own.name,
        column: link.from,
        parent: link.entity,
        parentFile: parentFile.name,
        sampled: values.length,
        resolved: values.filter((v) => ids.has(v)).length,
      });
    }
  }
  return links;
}

/**
 * The spec as written to `mapping.json` / `plan.json`: parsing fills `from: []` on constant fields
 * (`value`), which the schema refuses on input, so storage drops it again and every reader can
 * parse the file with the same schema an operator's YAML goes through.
 */
export function storableSpec(spec: MappingSpec): MappingSpecInput {
  const entities: MappingSpecInput['entities'] = {};
  for (const [name, entity] of Object.entries(spec.entities)) {
    const fields: Record<string, unknown> = {};
    for (const [fieldName, field] of Object.entries(entity.fields)) {
      const constant = (field as { value?: unknown }).value !== undefined;
      if (constant && Array.isArray(field.from) && field.from.length === 0) {
        const { from: _from, ...rest } = field;
        fields[fieldName] = rest;
      } else fields[fieldName] = field;
    }
    entities[name] = { ...entity, fields } as MappingSpecInput['entities'][string];
  }
  return { ...spec, entities };
}
