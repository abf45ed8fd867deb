/** Each file's own id (or composite id) and its references to other files' records, by header and by values. */

import { phiVerdict } from '../phi.ts';
import { ENTITY_RULES, type EntityRule, ruleOf } from './entities.ts';
import { normalizeHeader, singular } from './headers.ts';
import { type InferredColumnType, inferColumnType } from './infer.ts';
import type { SampledFile } from './types.ts';

/** Header words of another party's contact details: never the record's own email, phone or name. */
export const OTHER_PARTY_WORDS = new Set([
  'guarantor',
  'emergency',
  'responsible',
  'kin',
  'spouse',
  'parent',
  'insured',
  'subscriber',
  'employer',
  'referring',
  'referral',
  'referred',
  'recipient',
  'sent',
  'called',
  'dialed',
  'dialled',
  'to',
  'party',
]);

export const TIME_VALUE = /^(\d{1,2}:\d{2}(:\d{2})?\s*([ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?|[0-2]\d[0-5]\d)$/i;

/**
 * The time column that completes a date column: a header saying time or start ("Time", "Appt Time",
 * "Start", "SENT_TM" — not an end time) whose sampled values are times of day.
 */
export function timeColumnFor(
  normalized: readonly string[],
  file: SampledFile,
  used: ReadonlySet<number>,
): number {
  const candidates = normalized
    .map((h, i) => ({ h, i }))
    .filter(
      ({ h, i }) =>
        !used.has(i) && /\b(time|start)\b/.test(h) && !/\b(end|date|stop|finish|duration)\b/.test(h),
    )
    .filter(({ i }) => {
      const vals = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
      return vals.length > 0 && vals.filter((v) => TIME_VALUE.test(v)).length / vals.length >= 0.8;
    });
  const start = candidates.find(({ h }) => /\bstart\b/.test(h)) ?? candidates[0];
  return start?.i ?? -1;
}

/** Words that end an id column's header ("Patient ID", "Chart #", "Provider Code"). */
export const ID_WORDS = new Set([
  'id',
  'number',
  '#',
  'no',
  'num',
  'code',
  'key',
  'initials',
  'abbr',
  'identifier',
  'uuid',
]);

export interface Detected {
  file: SampledFile;
  entity: string;
  target: string;
  custom: boolean;
}

/** What the auto-mapper settles about a file before mapping any: headers, value kinds, its id. */
export interface FileFacts {
  readonly normalized: readonly string[];
  readonly types: readonly InferredColumnType[];
  /** The own id column, or -1 (then `idColumns` when a composite identifies rows). */
  readonly idIndex: number;
  readonly idConfidence: number;
  readonly idColumns?: readonly number[];
}

export function containsPhrase(words: readonly string[], phrase: string): boolean {
  const p = phrase.split(' ');
  for (let i = 0; i + p.length <= words.length; i++)
    if (p.every((w, k) => singular(words[i + k] ?? '') === w || words[i + k] === w)) return true;
  return false;
}

/** A column's values are distinct over the whole file (its key set), or over the sample when that is all there is. */
export function isKey(file: SampledFile, i: number): boolean {
  const column = file.header[i] ?? '';
  if (file.keys !== undefined) return file.keys[column] !== undefined;
  const vals = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
  return vals.length > 0 && new Set(vals).size === vals.length;
}

/** Every id value of a file's id column: its key set, else the sampled values. */
export function idValues(file: SampledFile, facts: FileFacts): ReadonlySet<string> | undefined {
  if (facts.idIndex < 0 || facts.idColumns !== undefined) return undefined;
  const column = file.header[facts.idIndex] ?? '';
  return (
    file.keys?.[column] ??
    new Set(file.sample.map((r) => (r[facts.idIndex] ?? '').trim()).filter((v) => v !== ''))
  );
}

/** Does a header name another entity's records (its reference words)? */
export function namesEntity(words: readonly string[], rule: EntityRule | undefined, entity: string): boolean {
  const refWords = rule?.refWords ?? [singular(entity.toLowerCase())];
  return refWords.some((w) => containsPhrase(words, w));
}

/**
 * The file's own id: the leftmost key column whose header is an id word after this entity's own
 * words ("Patient ID", "Chart #", "PatNum"), a bare id ("ID", "Code", "Initials"), or an id word after
 * words naming no other entity. A column naming another entity ("Provider ID" in appointments) is a
 * reference, never the id. With no such column the rows are identified by a composite of the columns
 * that tell them apart (patient, date, time, provider…), found on the sample.
 */
export function factsFor(d: Detected, detected: readonly Detected[]): FileFacts {
  const { file } = d;
  const normalized = file.header.map(normalizeHeader);
  const types = file.header.map((_, i) => inferColumnType(file.sample.map((row) => row[i] ?? '')));
  const rule = ruleOf(d.entity);
  const ownWords = rule?.idWords ?? [singular(d.entity.toLowerCase())];
  const others = ENTITY_RULES.filter((r) => r.entity !== rule?.entity);
  let best = -1;
  let bestScore = 0;
  normalized.forEach((h, i) => {
    if (phiVerdict(file.header[i] ?? '') !== 'allowed' || types[i]?.kind === 'ssn' || !isKey(file, i)) return;
    const words = h.split(' ').filter((w) => w !== '');
    const last = words[words.length - 1] ?? '';
    const rest = ID_WORDS.has(last) ? words.slice(0, -1) : words;
    let score = 0;
    const own = rest.length > 0 && ownWords.some((w) => containsPhrase(rest, w));
    const foreign = others.some((r) => r.refWords.some((w) => containsPhrase(rest, w)));
    // A bare "id" is the export's own key (API-style exports), even beside a "chart id" code.
    if (h === 'id' || h === 'record id' || h === 'key' || h === 'uuid') score = 1;
    else if (ID_WORDS.has(last) && own) score = 1;
    else if (ID_WORDS.has(last) && rest.length === 0) score = 0.8;
    else if (ID_WORDS.has(last) && !foreign) score = 0.7;
    else if (!ID_WORDS.has(last) && own && words.length === 1 && types[i]?.kind !== 'longText') score = 0.7;
    if (own && foreign && !ID_WORDS.has(last)) score = 0;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  if (best >= 0) return { normalized, types, idIndex: best, idConfidence: bestScore };

  // An id column named for another kind of record ("Visit ID" on a notes file) whose values are no
  // other file's keys is this file's own id: the records it names are not in the export.
  const otherKeys = detected
    .filter((o) => o !== d)
    .flatMap((o) =>
      o.file.header.map(
        (h, c) =>
          o.file.keys?.[h] ?? new Set(o.file.sample.map((r) => (r[c] ?? '').trim()).filter((v) => v !== '')),
      ),
    );
  const unclaimed = normalized.findIndex((h, i) => {
    const words = h.split(' ');
    if (!ID_WORDS.has(words[words.length - 1] ?? '') || words.length < 2) return false;
    if (phiVerdict(file.header[i] ?? '') !== 'allowed' || types[i]?.kind === 'ssn' || !isKey(file, i))
      return false;
    const values = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
    return (
      values.length > 0 &&
      otherKeys.every((keys) => values.filter((v) => keys.has(v)).length < 0.1 * values.length)
    );
  });
  if (unclaimed >= 0) return { normalized, types, idIndex: unclaimed, idConfidence: 0.6 };

  // No id column: the columns that identify a row — references, then dates and times, then the rest.
  const refLike = normalized
    .map((h, i) => ({ h, i }))
    .filter(({ h, i }) => {
      const words = h.split(' ');
      return (
        phiVerdict(file.header[i] ?? '') === 'allowed' &&
        detected.some((o) => o !== d && namesEntity(words, ruleOf(o.entity), o.entity))
      );
    })
    .map(({ i }) => i);
  const timeLike = normalized
    .map((h, i) => ({ h, i }))
    .filter(
      ({ h, i }) =>
        !refLike.includes(i) &&
        (/\b(date|time|sent|start|called)\b/.test(h) ||
          types[i]?.kind === 'date' ||
          types[i]?.kind === 'dateTime'),
    )
    .map(({ i }) => i);
  const restCols = file.header
    .map((_, i) => i)
    .filter(
      (i) =>
        !refLike.includes(i) &&
        !timeLike.includes(i) &&
        phiVerdict(file.header[i] ?? '') === 'allowed' &&
        types[i]?.kind !== 'longText',
    );
  const unique = (cols: readonly number[]) => {
    const seen = new Set<string>();
    for (const row of file.sample) {
      const key = cols.map((c) => (row[c] ?? '').trim()).join('\u001f');
      if (seen.has(key)) return false;
      seen.add(key);
    }
    return file.sample.length > 0;
  };
  const distinct = (cols: readonly number[]) =>
    new Set(file.sample.map((row) => cols.map((c) => (row[c] ?? '').trim()).join('\u001f'))).size;
  const chosen: number[] = [...refLike, ...timeLike];
  // Then, while rows still collide, the column that tells most of them apart (a status, a room),
  // not merely the next one: fewer columns make an id that survives edits to the others.
  const remaining = [...restCols];
  while (!(chosen.length >= 2 && unique(chosen)) && remaining.length > 0 && chosen.length <= 8) {
    const before = distinct(chosen);
    let best = -1;
    let bestCount = before;
    for (const c of remaining) {
      const count = distinct([...chosen, c]);
      if (count > bestCount) {
        best = c;
        bestCount = count;
      }
    }
    // Nothing separates the colliding rows further: take the next column, as a last resort.
    const next = best >= 0 ? best : (remaining[0] as number);
    chosen.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  if (chosen.length >= 2 && unique(chosen))
    return {
      normalized,
      types,
      idIndex: -1,
      idConfidence: 0.6,
      idColumns: [...chosen].sort((a, b) => a - b),
    };
  return { normalized, types, idIndex: -1, idConfidence: 0 };
}

/** Two candidate parents within this share of each other make a reference ambiguous. */
const AMBIGUITY_MARGIN = 0.1;
/** The confidence of an ambiguous reference: under the plan gate's floor (0.5). */
export const AMBIGUOUS_CONFIDENCE = 0.45;

export interface FoundReference {
  readonly index: number;
  readonly other: Detected;
  readonly confidence: number;
}

/** Share of a column's sampled non-blank values found among `ids`. */
export function resolvedShare(
  file: SampledFile,
  i: number,
  ids: ReadonlySet<string>,
): { share: number; distinct: number } {
  const vals = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '' && v !== '0');
  if (vals.length === 0) return { share: 0, distinct: 0 };
  return { share: vals.filter((v) => ids.has(v)).length / vals.length, distinct: new Set(vals).size };
}

/**
 * A file's references to other files' records. A column is a reference when its header names the
 * other entity ("Provider", "PATIENTID", "Chart #" — or the other file's own id header) and at least
 * half of its sampled values are that file's ids; or, named for nothing, when nine in ten of its
 * values are the ids of exactly one other file (codes, not small numbers every file shares).
 */
export function referencesOf(
  d: Detected,
  facts: FileFacts,
  detected: readonly Detected[],
  factsOf: ReadonlyMap<Detected, FileFacts>,
): FoundReference[] {
  const found: FoundReference[] = [];
  const { file } = d;
  facts.normalized.forEach((h, i) => {
    if (i === facts.idIndex && facts.idColumns === undefined) return;
    if (phiVerdict(file.header[i] ?? '') !== 'allowed' || facts.types[i]?.kind === 'ssn') return;
    const kind = facts.types[i]?.kind;
    if (
      kind === 'longText' ||
      kind === 'email' ||
      kind === 'boolean' ||
      kind === 'date' ||
      kind === 'dateTime' ||
      kind === 'money'
    )
      return;
    const words = h.split(' ');
    const named: { other: Detected; share: number }[] = [];
    const byValue: { other: Detected; share: number }[] = [];
    for (const other of detected) {
      const otherFacts = factsOf.get(other);
      if (otherFacts === undefined) continue;
      const ids = idValues(other.file, otherFacts);
      if (ids === undefined || ids.size === 0) continue;
      const self = other === d;
      const otherIdHeader = otherFacts.normalized[otherFacts.idIndex] ?? '';
      const { share, distinct } = resolvedShare(file, i, ids);
      // A record pointing at another of its own file: a guarantor, a parent, the head of a family
      // ("Fam #": the family head's chart number) — named so, and nine in ten values its own ids.
      const selfWords = /\b(guarantor|responsible|parent|fam|household|head)\b/.test(h);
      const byName =
        (!self || selfWords) &&
        (namesEntity(words, ruleOf(other.entity), other.entity) ||
          (!self && h === otherIdHeader) ||
          (self && share >= 0.9 && distinct >= 2));
      // Named "<entity> id" but the parent is known only by a few sampled rows: the name decides.
      const sampledOnly = other.file.keys === undefined && ID_WORDS.has(words[words.length - 1] ?? '');
      if (byName && (share >= 0.5 || sampledOnly))
        named.push({ other, share: Math.max(share, sampledOnly ? 0.6 : 0) });
      else if (!self && share >= 0.9 && distinct >= 2 && [...ids].some((v) => !/^\d{1,3}$/.test(v)))
        byValue.push({ other, share });
    }
    named.sort((a, b) => b.share - a.share);
    const top = named[0];
    if (top !== undefined) {
      // Named for two files whose ids its values match about as well: which parent is a guess, so
      // the confidence drops under the plan gate's floor and the operator confirms it.
      const runnerUp = named[1];
      const ambiguous = runnerUp !== undefined && runnerUp.share >= top.share - AMBIGUITY_MARGIN;
      found.push({
        index: i,
        other: top.other,
        confidence: ambiguous ? AMBIGUOUS_CONFIDENCE : Number((0.5 + 0.5 * top.share).toFixed(2)),
      });
      return;
    }
    if (byValue.length === 1 && byValue[0] !== undefined)
      found.push({
        index: i,
        other: byValue[0].other,
        confidence: Number((0.7 * byValue[0].share).toFixed(2)),
      });
  });
  return found;
}
