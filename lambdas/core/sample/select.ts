/**
 * The sample a run loads first, for the operator to check field by field before the full load: a
 * representative, FK-closed set of records — patients with their appointments, notes, claims…, and
 * every record those point at (their provider, their practice), so each sampled record loads with its
 * links and nothing in the sample refers outside it.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One mapped record as the selection sees it: its id, entity and the ids it points at. */
export interface SampleCandidate {
  readonly id: string;
  readonly entity: string;
  /** Ids of the records this one references (relations' join columns, activity targets). */
  readonly refs: readonly string[];
}

/** Every UUID in a mapped record's data and its targets' data, except its own id. */
export function referencedIds(
  id: string,
  data: Readonly<Record<string, unknown>>,
  targets: readonly { readonly data: Readonly<Record<string, unknown>> }[] = [],
): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      if (UUID.test(value) && value !== id) found.add(value);
    } else if (Array.isArray(value)) for (const v of value) visit(v);
  };
  for (const [field, value] of Object.entries(data)) if (field !== 'id') visit(value);
  for (const target of targets)
    for (const [field, value] of Object.entries(target.data)) if (field !== 'id') visit(value);
  return [...found];
}

export interface SampleOptions {
  /** About how many records (default 300); the closure of the last group may go a little over. */
  readonly size?: number;
  /** Children of one entity kept per root record (a patient's first 5 appointments). */
  readonly childrenPerEntity?: number;
}

/**
 * Chooses the sample: the root entity is the one the most other records point at (the patients);
 * root records are taken in file order, each with up to `childrenPerEntity` of its children per
 * entity and their children, plus everything any of them points at, transitively — until the size
 * is reached. An entity still missing is then added by its first record and what it points at, so
 * every entity is represented. Returns the ids, in input order.
 */
export function selectSample(records: readonly SampleCandidate[], options: SampleOptions = {}): string[] {
  const size = Math.max(1, options.size ?? 300);
  const perEntity = Math.max(1, options.childrenPerEntity ?? 5);
  const byId = new Map(records.map((r) => [r.id, r]));
  const children = new Map<string, SampleCandidate[]>();
  const pointedAt = new Map<string, number>();
  for (const r of records)
    for (const ref of r.refs) {
      const parent = byId.get(ref);
      if (parent === undefined || parent.entity === r.entity) continue;
      const list = children.get(ref) ?? [];
      list.push(r);
      children.set(ref, list);
      pointedAt.set(parent.entity, (pointedAt.get(parent.entity) ?? 0) + 1);
    }
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.entity, (counts.get(r.entity) ?? 0) + 1);
  const entities = [...counts.keys()];
  const root =
    [...pointedAt.entries()].sort(
      (a, b) => b[1] - a[1] || entities.indexOf(a[0]) - entities.indexOf(b[0]),
    )[0]?.[0] ?? [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];

  const selected = new Set<string>();
  const withAncestors = (ids: Iterable<string>): Set<string> => {
    const out = new Set<string>();
    const stack = [...ids];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (out.has(id) || !byId.has(id)) continue;
      out.add(id);
      for (const ref of byId.get(id)?.refs ?? []) stack.push(ref);
    }
    return out;
  };
  const childrenOf = (id: string): string[] => {
    const kept = new Map<string, number>();
    const out: string[] = [];
    for (const child of children.get(id) ?? []) {
      const n = kept.get(child.entity) ?? 0;
      if (n >= perEntity) continue;
      kept.set(child.entity, n + 1);
      out.push(child.id);
    }
    return out;
  };
  for (const r of records) {
    if (selected.size >= size) break;
    if (r.entity !== root || selected.has(r.id)) continue;
    const direct = childrenOf(r.id);
    const grand = direct.flatMap(childrenOf);
    const group = [...withAncestors([r.id, ...direct, ...grand])].filter((id) => !selected.has(id));
    if (selected.size > 0 && selected.size + group.length > size) continue;
    for (const id of group) selected.add(id);
  }
  const represented = new Set([...selected].map((id) => byId.get(id)?.entity));
  for (const entity of entities) {
    if (represented.has(entity)) continue;
    const first = records.find((r) => r.entity === entity);
    if (first === undefined) continue;
    for (const id of withAncestors([first.id])) selected.add(id);
  }
  return records.filter((r) => selected.has(r.id)).map((r) => r.id);
}
