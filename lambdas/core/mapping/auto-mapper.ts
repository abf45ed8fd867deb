import { phaseOf } from '../prepare/order.ts';
import { taskType } from '../sources/profile.ts';
import { detectEntity, ENTITY_RULES, fileTitle, ruleOf } from './auto/entities.ts';
import { camel, normalizeHeader, similarity, singular, titleCase } from './auto/headers.ts';
import { type InferredColumnType, inferColumnType } from './auto/infer.ts';
import {
  containsPhrase,
  type Detected,
  type FileFacts,
  factsFor,
  ID_WORDS,
  OTHER_PARTY_WORDS,
  referencesOf,
  timeColumnFor,
} from './auto/references.ts';
import {
  CUSTOM_TYPE_OF_TRANSFORM,
  DELIVERY_STATUS,
  dateOrderOf,
  guessValueMap,
  type ProposedValueMap,
  RESERVED,
  type Role,
  STANDARD_SELECTS,
  selectOptionsOf,
  standardTypeOf,
  TARGET_ROLES,
  TRANSFORMS_FOR_TYPE,
  transformFor,
} from './auto/targets.ts';
import type {
  ExcludedColumn,
  ProfileHints,
  ProposedMapping,
  SampledFile,
  UnmappedColumn,
} from './auto/types.ts';
import { phiVerdict } from './phi.ts';
import type { CustomFieldType, EntitySpecInput, FieldSpecInput, MappingSpecInput } from './spec.ts';
import { toOptionValue } from './transforms/select.ts';

export { normalizeHeader } from './auto/headers.ts';
export { type InferredColumnType, type InferredKind, inferColumnType } from './auto/infer.ts';
export { type ProposedValueMap, STANDARD_FIELDS, STANDARD_SELECTS, standardTypeOf } from './auto/targets.ts';
export type {
  ExcludedColumn,
  ProfileHints,
  ProposedMapping,
  SampledFile,
  UnmappedColumn,
} from './auto/types.ts';

/**
 * Proposes a mapping for files Ferry has no profile for: detects each file's entity from its name
 * (or header), matches normalized headers against synonyms of the target's fields, checks the
 * values agree, links `<entity> id` columns to the entity they name, and turns every other column
 * into a custom field of its inferred type. SSN-like columns are excluded and reported.
 */
export function proposeMapping(files: readonly SampledFile[], profileHints?: ProfileHints): ProposedMapping {
  const detected: Detected[] = files.map((f) => ({ file: f, ...detectEntity(f, profileHints) }));
  const entityNames = new Set<string>();
  for (const d of detected) {
    let name = d.entity;
    for (let i = 2; entityNames.has(name); i++) name = `${d.entity}${i}`;
    entityNames.add(name);
    d.entity = name;
  }
  const entities: Record<string, EntitySpecInput> = {};
  const confidence: Record<string, Record<string, number>> = {};
  const unmapped: UnmappedColumn[] = [];
  const excluded: ExcludedColumn[] = [];
  const valueMaps: ProposedValueMap[] = [];
  const customObjects: NonNullable<MappingSpecInput['customObjects']> = [];

  /** A column's date order from its values; one they leave open follows the known system's order. */
  const orderOf = (t: InferredColumnType): FieldSpecInput['dateOrder'] => {
    const order = dateOrderOf(t);
    return order === 'auto' && profileHints?.dateOrder !== undefined ? profileHints.dateOrder : order;
  };
  const factsOf = new Map<Detected, FileFacts>();
  for (const d of detected) factsOf.set(d, factsFor(d, detected));

  for (const d of detected) {
    const { file, entity, target } = d;
    const conf: Record<string, number> = {};
    confidence[entity] = conf;
    const normalized = file.header.map(normalizeHeader);
    const columnValues = (i: number): string[] => file.sample.map((row) => row[i] ?? '');
    const types = file.header.map((_, i) => inferColumnType(columnValues(i)));
    const used = new Set<number>();
    /** Columns a standard SELECT could not take: they become custom SELECT fields. */
    const forceSelect = new Set<number>();

    file.header.forEach((column, i) => {
      const verdict = phiVerdict(column);
      if (verdict !== 'allowed' || types[i]?.kind === 'ssn') {
        excluded.push({
          file: file.stem,
          column,
          rule: verdict !== 'allowed' ? 'SSN column name' : 'SSN-shaped values',
        });
        used.add(i);
      }
    });

    // Source id: the file's own id column (found before this loop), else a composite of columns.
    const rule = ruleOf(entity);
    const ownWords = rule?.idWords ?? [singular(entity.toLowerCase())];
    const facts = factsOf.get(d) as FileFacts;
    const idIndex = facts.idIndex;
    const idColumn = file.header[Math.max(idIndex, 0)] ?? 'id';
    const idColumns = facts.idColumns?.map((i) => file.header[i] ?? '');
    if (idIndex >= 0 && facts.idColumns === undefined) used.add(idIndex);
    conf[idColumn] = facts.idConfidence;

    // References: a column whose values are another file's ids, named for it or by values alone.
    const relations: NonNullable<EntitySpecInput['relations']> = {};
    const targets: NonNullable<EntitySpecInput['targets']> = [];
    const relationNames = new Set<string>();
    for (const ref of referencesOf(d, facts, detected, factsOf)) {
      if (used.has(ref.index)) continue;
      const column = file.header[ref.index] ?? '';
      const other = ref.other;
      if (target === 'task' || target === 'note' || target === 'attachment') {
        // Twenty's task and note targets point at people, companies, opportunities and custom
        // objects, never at another task or note: such a column stays a custom field (the source id).
        if (other.target === 'task' || other.target === 'note') continue;
        used.add(ref.index);
        conf[column] = ref.confidence;
        targets.push({ entity: other.entity, from: column });
        continue;
      }
      // Records load in phases (companies, people, opportunities, activities, custom objects); a link
      // to a record of a later phase could not be written, so that column stays a custom field.
      if (phaseOf(other.target) > phaseOf(target)) continue;
      used.add(ref.index);
      conf[column] = ref.confidence;
      const standardName =
        other.target === 'company' &&
        (target === 'person' || target === 'opportunity') &&
        !relationNames.has('company')
          ? 'company'
          : target === 'opportunity' &&
              ruleOf(other.entity)?.entity === 'patients' &&
              !relationNames.has('pointOfContact')
            ? 'pointOfContact'
            : undefined;
      const words = (normalized[ref.index] ?? '').split(' ').filter((w) => !ID_WORDS.has(w));
      const base = words.length > 0 ? words : [singular(other.entity.toLowerCase())];
      let name = standardName ?? camel(base);
      for (
        let k = 2;
        standardName === undefined &&
        (relationNames.has(name) ||
          RESERVED.has(name) ||
          standardTypeOf(target, name) !== undefined ||
          name === 'company' ||
          name === 'pointOfContact');
        k++
      )
        name = `${camel(base)}${k}`;
      relationNames.add(name);
      relations[name] = {
        entity: other.entity,
        from: column,
        joinColumn: `${name}Id`,
        onMissing: 'null',
        ...(standardName !== undefined
          ? {}
          : {
              custom: {
                label: titleCase(base),
                targetFieldLabel: titleCase([...normalizeHeader(entity).split(' '), 'by', ...base]),
              },
            }),
      };
    }

    // Standard fields by synonym, best score first, one column per role (phones take several).
    const roles = TARGET_ROLES[target] ?? [];
    const communication = target === 'task' && ruleOf(entity)?.entity === 'communications';
    /** Columns a standard field reads that are also kept verbatim as a custom field. */
    const keptVerbatim = new Set<number>();
    const candidates: Array<{ i: number; role: Role; score: number }> = [];
    const ownRule = ruleOf(entity);
    normalized.forEach((h, i) => {
      if (used.has(i)) return;
      const words = h.split(' ');
      const endsWithId = ID_WORDS.has(words[words.length - 1] ?? '') || words.includes('license');
      // Another party's contact ("Guarantor Phone", "Provider Email", "Sent To") is not this record's own.
      const otherParty =
        words.some((w) => OTHER_PARTY_WORDS.has(w)) ||
        (words.includes('contact') && !/contact/i.test(fileTitle(file))) ||
        ENTITY_RULES.some(
          (r) => r !== ownRule && r.target === 'person' && r.refWords.some((w) => containsPhrase(words, w)),
        );
      const kind = types[i]?.kind ?? 'text';
      for (const role of roles) {
        if (endsWithId && role.field !== 'phones') continue;
        if (otherParty && (role.field === 'emails' || role.field === 'phones' || role.field === 'name'))
          continue;
        if (
          role.field === 'name' &&
          (kind === 'date' || kind === 'dateTime' || kind === 'number' || kind === 'money')
        )
          continue;
        let score = Math.max(...role.synonyms.map((s) => similarity(h, s)));
        // Values that contradict a typed standard field (a "Phone" of 7-digit local numbers, a "Date"
        // of free text) would reject every row there: even an exact header then falls below the
        // threshold and the column is kept as a custom field of its inferred type instead.
        if (role.kinds !== undefined && kind !== 'empty' && !role.kinds.includes(kind)) score *= 0.4;
        if (score >= 0.5) candidates.push({ i, role, score });
      }
    });
    candidates.sort((a, b) => b.score - a.score || a.i - b.i);
    const taken = new Map<string, Array<{ i: number; score: number }>>();
    for (const c of candidates) {
      if (used.has(c.i)) continue;
      const key = `${c.role.field}.${c.role.part ?? ''}`;
      const list = taken.get(key) ?? [];
      if (list.length > 0 && c.role.field !== 'phones') continue;
      list.push({ i: c.i, score: c.score });
      taken.set(key, list);
      used.add(c.i);
      conf[file.header[c.i] ?? ''] = Number(c.score.toFixed(2));
    }
    const col = (key: string): string | undefined => {
      const hit = taken.get(key)?.[0];
      return hit === undefined ? undefined : file.header[hit.i];
    };
    const fields: Record<string, FieldSpecInput> = {};
    const first = col('name.first');
    const middle = col('name.middle');
    const last = col('name.last');
    const full = col('name.full');
    if (first !== undefined || last !== undefined) {
      const parts = [first, middle, last].filter((c): c is string => c !== undefined);
      fields.name = { from: parts, transform: 'fullName' };
      if (full !== undefined) {
        taken.delete('name.full');
        used.delete(file.header.indexOf(full));
        delete conf[full];
      }
    } else if (full !== undefined)
      fields.name = { from: full, transform: target === 'person' ? 'fullName' : 'text' };
    const addressFrom: Record<string, string> = {};
    for (const part of ['street1', 'street2', 'city', 'state', 'postcode', 'country']) {
      const c = col(`address.${part}`);
      if (c !== undefined) addressFrom[part] = c;
    }
    if (Object.keys(addressFrom).length > 0) {
      // Only companies have a standard address; `address` is reserved, so people get homeAddress.
      if (standardTypeOf(target, 'address') === 'ADDRESS')
        fields.address = { from: addressFrom, transform: 'address' };
      else
        fields.homeAddress = {
          from: addressFrom,
          transform: 'address',
          custom: { type: 'ADDRESS', label: 'Address' },
        };
    }
    for (const role of roles) {
      if (role.part !== undefined || fields[role.field] !== undefined) continue;
      const hits = taken.get(`${role.field}.`);
      if (hits === undefined) continue;
      const columns = hits.map((h) => file.header[h.i] ?? '');
      const t = types[hits[0]?.i ?? 0];
      switch (role.field) {
        case 'emails':
          fields.emails = { from: columns.length === 1 ? (columns[0] ?? '') : columns, transform: 'email' };
          break;
        case 'phones':
          fields.phones = { from: columns, transform: 'phones' };
          break;
        case 'dueAt':
        case 'closeDate': {
          // A date without its time, next to a time column ("Appt Date" + "Appt Time"): one date-time of both.
          const time = t?.kind === 'date' ? timeColumnFor(normalized, file, used) : -1;
          if (time >= 0) used.add(time);
          fields[role.field] = {
            from: time >= 0 ? [columns[0] ?? '', file.header[time] ?? ''] : (columns[0] ?? ''),
            transform: 'dateTime',
            dateOrder: t ? orderOf(t) : (profileHints?.dateOrder ?? 'auto'),
          };
          if (time >= 0) conf[file.header[time] ?? ''] = conf[columns[0] ?? ''] ?? 0.8;
          break;
        }
        case 'amount':
          fields.amount = { from: columns[0] ?? '', transform: 'money' };
          break;
        case 'bodyV2':
          fields.bodyV2 = { from: columns[0] ?? '', transform: 'richText' };
          break;
        case 'domainName':
          fields.domainName = { from: columns[0] ?? '', transform: 'links' };
          break;
        case 'status':
        case 'stage': {
          const i = hits[0]?.i ?? 0;
          const column = columns[0] ?? '';
          // A communication's status column is its delivery outcome: read first as one (a "Confirmed"
          // reminder is a call made, not a visit to come), and kept verbatim as a custom SELECT beside
          // the task status (which has three options and would lose "Failed" against "Delivered").
          const delivery =
            communication && role.field === 'status' ? guessValueMap(columnValues(i), DELIVERY_STATUS) : null;
          if (delivery !== null) {
            keptVerbatim.add(i);
            forceSelect.add(i);
          }
          const standard = delivery !== null ? DELIVERY_STATUS : STANDARD_SELECTS[`${target}.${role.field}`];
          const guess =
            delivery ?? (standard === undefined ? null : guessValueMap(columnValues(i), standard));
          if (standard === undefined || guess === null) {
            // The values are not this status: keep them as a custom SELECT (own options) instead.
            used.delete(i);
            delete conf[column];
            forceSelect.add(i);
            break;
          }
          fields[role.field] = {
            from: column,
            transform: 'select',
            valueMap: guess.mapped,
            unmapped: 'default',
            default: standard.default,
          };
          // A guessed value map needs review: confidence drops with the share of rows it had to guess.
          const score = hits[0]?.score ?? 0;
          conf[column] = Number((guess.exact ? score : score * 0.8 * guess.rowShare).toFixed(2));
          valueMaps.push({
            entity,
            field: role.field,
            column,
            target: 'standard',
            mapped: guess.mapped,
            unmatched: guess.unmatched,
            default: standard.default,
          });
          break;
        }
        default:
          fields[role.field] = { from: columns[0] ?? '', transform: 'text' };
      }
    }

    // Standard fields whose transform the field's type would not take (or that this object lacks)
    // become custom fields, so the proposal never asks Twenty for what it cannot hold.
    const entityWord = ownWords[0] ?? singular(entity.toLowerCase());
    /** A custom field name free on `target` in both flavors: not reserved, not a standard field of another type. */
    const freeName = (base: readonly string[], type: CustomFieldType): string => {
      const fits = (n: string): boolean => {
        if (RESERVED.has(n) || fields[n] !== undefined) return false;
        const standardType = standardTypeOf(target, n);
        return standardType === undefined || (standardType === type && !/SELECT|RELATION/.test(type));
      };
      for (const n of [camel(base), camel([entityWord, ...base]), camel(['source', ...base])])
        if (fits(n)) return n;
      let n = 2;
      while (!fits(`${camel(base)}${n}`)) n++;
      return `${camel(base)}${n}`;
    };
    if (!d.custom)
      for (const [name, field] of Object.entries(fields)) {
        if (field.custom !== undefined || field.transform === undefined) continue;
        const standardType = standardTypeOf(target, name);
        if (standardType !== undefined && TRANSFORMS_FOR_TYPE[standardType]?.includes(field.transform))
          continue;
        const type = CUSTOM_TYPE_OF_TRANSFORM[field.transform];
        delete fields[name];
        fields[freeName([name], type)] = { ...field, custom: { type, label: titleCase([name]) } };
      }

    // Everything else: a custom field of the inferred type, never dropped silently.
    const ownWordSet = new Set([...ownWords, 'patient']);
    file.header.forEach((column, i) => {
      if (used.has(i) && !keptVerbatim.has(i)) return;
      const inferred = types[i] ?? { kind: 'text' as const, confidence: 1 };
      const forcedOptions = forceSelect.has(i) ? selectOptionsOf(columnValues(i)) : null;
      const t: InferredColumnType =
        forcedOptions === null
          ? inferred
          : { kind: 'select', confidence: inferred.confidence, options: forcedOptions };
      const words = (normalized[i] ?? '').split(' ').filter((w) => w !== '#');
      const trimmed = words.length > 1 && ownWordSet.has(words[0] ?? '') ? words.slice(1) : words;
      const { transform, type } = transformFor(t.kind === 'empty' ? 'text' : t.kind);
      const name = freeName(trimmed.length > 0 ? trimmed : ['column', String(i + 1)], type);
      const label = titleCase(trimmed.length > 0 ? trimmed : [column]);
      const field: FieldSpecInput = { from: column, transform, custom: { type, label } };
      if (t.kind === 'date' || t.kind === 'dateTime') field.dateOrder = orderOf(t);
      if (t.kind === 'date' && (normalized[i] ?? '').includes('birth')) field.validate = 'birthDate';
      if (t.kind === 'select' && t.options !== undefined) {
        field.valueMap = Object.fromEntries(t.options.map((v) => [v, toOptionValue(v)]));
        if (forceSelect.has(i))
          valueMaps.push({
            entity,
            field: name,
            column,
            target: 'custom',
            mapped: field.valueMap,
            unmatched: [],
          });
        field.unmapped = 'addOption';
        field.custom = {
          type,
          label,
          options: [...new Map(t.options.map((v) => [toOptionValue(v), v])).entries()].map(([value, l]) => ({
            value,
            label: l,
          })),
        };
      }
      fields[name] = field;
      if (keptVerbatim.has(i)) return;
      conf[column] = Number((0.5 * t.confidence).toFixed(2));
      unmapped.push({
        file: file.stem,
        column,
        inferredType: t.kind,
        proposedCustomField: { name, type, label },
      });
    });

    // A guessed id (no id column, no composite) keeps its own confidence for the plan gate, even when
    // the column it fell back on also fills a field with a confident match.
    if (idIndex < 0 && facts.idColumns === undefined) conf[idColumn] = facts.idConfidence;

    // Appointments and communications both load as tasks; a constant task type tells them apart
    // (the product brief: a communication is a Task of type Communication), as the profiles do.
    const kind = ruleOf(entity)?.entity;
    if (
      target === 'task' &&
      (kind === 'appointments' || kind === 'communications') &&
      fields.taskType === undefined
    )
      fields.taskType = taskType(kind === 'appointments' ? 'Appointment' : 'Communication');
    // Providers are matched to workspace members first (the brief): a provider whose email is a
    // member's is that Twenty user, not a new person (skipped MATCHED_MEMBER), as the profiles do.
    const ownEmail = fields.emails?.from;
    const memberMatch =
      kind === 'providers' && typeof ownEmail === 'string' ? { skipIfMember: { from: ownEmail } } : {};
    entities[entity] = {
      files: [file.name ?? `${file.stem}.csv`],
      target,
      idColumn,
      ...(idColumns === undefined ? {} : { idColumns }),
      fields,
      relations,
      targets,
      ...memberMatch,
    };
    if (d.custom)
      if (!customObjects.some((o) => o.nameSingular === target)) {
        const known = ruleOf(entity)?.custom;
        customObjects.push({
          nameSingular: target,
          namePlural: known?.namePlural ?? (entity === target ? `${target}s` : entity),
          labelSingular: known?.labelSingular ?? titleCase(normalizeHeader(target).split(' ')),
          labelPlural: known?.labelPlural ?? titleCase(normalizeHeader(entity).split(' ')),
        });
      }
  }

  const spec: MappingSpecInput = {
    version: 1,
    source: profileHints?.source ?? 'generic',
    options: {
      defaultCountry: profileHints?.defaultCountry ?? 'US',
      ...(profileHints?.dateOrder !== undefined ? { dateOrder: profileHints.dateOrder } : {}),
    },
    entities,
    customObjects,
  };
  return { spec, confidence, unmapped, excluded, valueMaps };
}
