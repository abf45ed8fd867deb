import { ValidationError } from '../errors.ts';
import { LOAD_PHASES, type LoadPhase } from '../load/format.ts';
import { fileGlob } from '../mapping/file-glob.ts';
import type { EntitySpec, MappingSpec } from '../mapping/spec.ts';

/**
 * Load order. Twenty refuses a record whose foreign key points at a row that does not exist yet,
 * so records go in phases by target object (companies → people → opportunities → activities →
 * custom objects → attachments) and, inside a phase, referenced entities come first.
 */

const STANDARD_PHASE: Readonly<Record<string, LoadPhase>> = {
  company: '01-companies',
  person: '02-people',
  opportunity: '03-opportunities',
  task: '04-activities',
  note: '04-activities',
  attachment: '06-attachments',
};

/** The load phase of a Twenty object; every object that is not standard is a custom one. */
export function phaseOf(target: string): LoadPhase {
  return STANDARD_PHASE[target] ?? '05-custom';
}

/** An entity in load order with the wave (within its phase) its depth-0 rows are loaded in. */
export interface OrderedEntity {
  readonly name: string;
  readonly spec: EntitySpec;
  readonly phase: LoadPhase;
  /** Names of other entities this one references (relations and targets). */
  readonly references: readonly string[];
  /** Whether a relation points at the entity itself (rows must be ordered parents first). */
  readonly selfReferencing: boolean;
}

function referencesOf(spec: EntitySpec): string[] {
  return [
    ...new Set([...Object.values(spec.relations).map((r) => r.entity), ...spec.targets.map((t) => t.entity)]),
  ];
}

/**
 * Orders the mapping's entities for loading: by phase, then topologically inside a phase (ties
 * keep the spec's order). ValidationError when an entity references one loaded in a later phase
 * (its foreign key could not exist yet) or when entities of one phase reference each other in a
 * cycle; a relation of an entity to itself is allowed and handled row by row.
 */
export function orderEntities(spec: MappingSpec): OrderedEntity[] {
  const entries = Object.entries(spec.entities).map(([name, e]) => {
    const references = referencesOf(e).filter((r) => r !== name);
    const selfReferencing = Object.values(e.relations).some((r) => r.entity === name);
    return { name, spec: e, phase: phaseOf(e.target), references, selfReferencing };
  });
  const byName = new Map(entries.map((e) => [e.name, e]));
  const problems: string[] = [];
  for (const e of entries)
    for (const ref of e.references) {
      const other = byName.get(ref);
      if (other !== undefined && LOAD_PHASES.indexOf(other.phase) > LOAD_PHASES.indexOf(e.phase))
        problems.push(
          `mapping: entities.${e.name} references ${ref}, which is loaded in a later phase (${other.phase} after ${e.phase})`,
        );
    }
  if (problems.length > 0) throw new ValidationError(problems.join('\n'), { code: 'MAPPING_INVALID' });

  const ordered: OrderedEntity[] = [];
  for (const phase of LOAD_PHASES) {
    const pending = entries.filter((e) => e.phase === phase);
    const done = new Set<string>();
    while (pending.length > 0) {
      const index = pending.findIndex((e) =>
        e.references.every((r) => done.has(r) || byName.get(r)?.phase !== phase),
      );
      if (index < 0)
        throw new ValidationError(
          `mapping: entities ${pending.map((e) => e.name).join(', ')} reference each other in a cycle within ${phase}`,
          { code: 'MAPPING_INVALID' },
        );
      const [next] = pending.splice(index, 1);
      if (next === undefined) break;
      done.add(next.name);
      ordered.push(next);
    }
  }
  return ordered;
}

/**
 * Orders the rows of a self-referencing entity so that every row comes after the first row
 * carrying the id it points at (depth-first from each row to its parent chain). A cycle is broken
 * where it closes: that row comes first and its parent is then not known yet (orphan).
 * Returns row indexes; duplicates keep their file order after the first occurrence.
 */
export function parentsFirst(parentOf: ReadonlyArray<{ id: string; parent: string }>): number[] {
  const firstIndex = new Map<string, number>();
  parentOf.forEach((r, i) => {
    if (r.id !== '' && !firstIndex.has(r.id)) firstIndex.set(r.id, i);
  });
  const state = new Uint8Array(parentOf.length); // 0 new, 1 on the path, 2 emitted
  const order: number[] = [];
  for (let start = 0; start < parentOf.length; start++) {
    if (state[start] !== 0) continue;
    // Walk up to the first ancestor not yet visited, then emit the path top-down.
    const path: number[] = [];
    let at: number | undefined = start;
    while (at !== undefined && state[at] === 0) {
      state[at] = 1;
      path.push(at);
      const parent: string = parentOf[at]?.parent ?? '';
      at = parent === '' ? undefined : firstIndex.get(parent);
    }
    for (let k = path.length - 1; k >= 0; k--) {
      const i = path[k] as number;
      state[i] = 2;
      order.push(i);
    }
  }
  return order;
}

/**
 * Assigns each segmented file (its name inside the drop folder) to at most one entity: exact
 * names win over globs, then the first entity (spec order) whose glob matches. Globs compare with
 * the base name, so `documents/x.csv` matches `x.csv`.
 */
export function matchFiles(
  names: readonly string[],
  patterns: ReadonlyArray<{ entity: string; files: readonly string[] }>,
): Map<string, string> {
  const byFile = new Map<string, string>();
  const base = (n: string): string => n.slice(n.lastIndexOf('/') + 1);
  for (const name of names) {
    const exact = patterns.find((p) =>
      p.files.some((f) => !/[*?]/.test(f) && f.toLowerCase() === base(name).toLowerCase()),
    );
    const found =
      exact ?? patterns.find((p) => p.files.some((f) => /[*?]/.test(f) && fileGlob(f).test(base(name))));
    if (found !== undefined) byFile.set(name, found.entity);
  }
  return byFile;
}
