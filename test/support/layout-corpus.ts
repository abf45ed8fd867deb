import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { readCsv } from '../../lambdas/core/csv/reader.ts';
import { stemFor } from '../../lambdas/core/inventory/inspect-file.ts';
import {
  columnKeysFromRows,
  filesOf,
  type MappingFile,
  type MappingPlan,
} from '../../lambdas/core/inventory/mapping-plan.ts';
import type { EntitySpec } from '../../lambdas/core/mapping/spec.ts';
import { phaseOf } from '../../lambdas/core/prepare/order.ts';

/**
 * The layout corpus (`test/fixtures/layouts/<name>/`): export layouts written without Ferry's
 * generator, each with a `truth.json` naming what every column is meant to become. This module
 * reads a layout as Inventory samples it and scores a mapping plan against the truth.
 */

export interface LayoutTruth {
  readonly system: string;
  readonly files: Readonly<
    Record<
      string,
      {
        readonly entity: string;
        readonly target: string;
        readonly columns: Readonly<Record<string, string | readonly string[]>>;
      }
    >
  >;
}

export const LAYOUTS_DIR = join(import.meta.dirname, '..', 'fixtures', 'layouts');
const SAMPLE_ROWS = 50;

/** Layout directories that carry a truth file. */
export function layoutNames(): string[] {
  return readdirSync(LAYOUTS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .filter((name) => readdirSync(join(LAYOUTS_DIR, name)).includes('truth.json'))
    .sort();
}

/** A layout's data files read like Inventory reads them (header, first rows, key-column values) and its truth. */
export async function loadLayout(name: string): Promise<{ files: MappingFile[]; truth: LayoutTruth }> {
  const dir = join(LAYOUTS_DIR, name);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as LayoutTruth;
  const files: MappingFile[] = [];
  const stems = new Set<string>();
  for (const file of readdirSync(dir).sort()) {
    const ext = extname(file).toLowerCase();
    if (!['.csv', '.txt', '.tsv'].includes(ext)) continue;
    const rows: string[][] = [];
    const result = await readCsv(
      createReadStream(join(dir, file)),
      { file, encoding: 'utf-8', preferTab: ext === '.tsv' },
      { row: (row) => void rows.push(row.cells()) },
    );
    files.push({
      name: file,
      // The stem Inventory gives the file (lower case, key-safe): the mapping sees what a run sees.
      stem: stemFor(file, stems),
      header: result.header,
      sample: rows.slice(0, SAMPLE_ROWS),
      keys: columnKeysFromRows(result.header, rows),
    });
  }
  return { files, truth };
}

const CRITICAL = /^(id|ref:.*|name\..*|emails)$/;

function columnsOf(
  from: EntitySpec['fields'][string]['from'],
): { column: string; part?: string; index: number; count: number }[] {
  if (typeof from === 'string') return [{ column: from, index: 0, count: 1 }];
  if (Array.isArray(from)) return from.map((column, index) => ({ column, index, count: from.length }));
  return Object.entries(from).map(([part, column], index) => ({ column, part, index, count: 1 }));
}

const NAME_PARTS: Record<number, string[]> = {
  1: ['name.full'],
  2: ['name.first', 'name.last'],
  3: ['name.first', 'name.middle', 'name.last'],
};

export interface ColumnVerdict {
  readonly file: string;
  readonly column: string;
  readonly expected: readonly string[];
  readonly predicted: readonly string[];
  readonly correct: boolean;
  readonly critical: boolean;
}

export interface LayoutScore {
  readonly layout: string;
  readonly columns: number;
  readonly correct: number;
  readonly verdicts: ColumnVerdict[];
  /** Wrong id, parent reference, name or email, either way round; and files read as the wrong kind of record. */
  readonly criticalErrors: string[];
  readonly fileErrors: string[];
}

/** What the plan does with each column of each file, in the truth's vocabulary. */
export function predictedTargets(
  plan: MappingPlan,
  files: readonly MappingFile[],
): Map<string, Map<string, Set<string>>> {
  const byFile = new Map<string, Map<string, Set<string>>>();
  const add = (file: string, column: string, target: string) => {
    const columns = byFile.get(file) ?? new Map<string, Set<string>>();
    byFile.set(file, columns);
    const set = columns.get(column) ?? new Set<string>();
    columns.set(column, set);
    set.add(target);
  };
  const roleOfEntity = new Map<string, string>();
  for (const [name, entity] of Object.entries(plan.spec.entities))
    roleOfEntity.set(name, filesOf(entity, files)[0]?.name ?? name);
  for (const [, entity] of Object.entries(plan.spec.entities)) {
    for (const file of filesOf(entity, files)) {
      const f = file.name;
      for (const c of entity.idColumns ?? [entity.idColumn]) add(f, c, entity.idColumns ? 'id-part' : 'id');
      for (const [name, field] of Object.entries(entity.fields)) {
        const sources = columnsOf(field.from);
        for (const s of sources) {
          let target: string;
          // A person's address is a custom ADDRESS field (Twenty's people have none): its parts still count as address.
          if (s.part !== undefined && field.transform === 'address') target = `address.${s.part}`;
          else if (field.transform === 'phones' && (name === 'phones' || field.custom === undefined))
            target = 'phones';
          else if (name === 'dueAt' && s.count === 2) target = s.index === 0 ? 'dueAt.date' : 'dueAt.time';
          else if (field.custom !== undefined) target = 'custom';
          else if (name === 'name' && field.transform === 'fullName')
            target = NAME_PARTS[s.count]?.[s.index] ?? 'name.full';
          else if (s.part !== undefined) target = `address.${s.part}`;
          else if (name === 'name') target = 'name';
          else target = name;
          add(f, s.column, target);
        }
      }
      for (const relation of Object.values(entity.relations))
        add(f, relation.from, `ref:@${roleOfEntity.get(relation.entity) ?? relation.entity}`);
      for (const target of entity.targets)
        add(f, target.from, `ref:@${roleOfEntity.get(target.entity) ?? target.entity}`);
      if (entity.owner) add(f, entity.owner.from, 'owner');
    }
  }
  for (const e of plan.excluded) {
    const file = files.find((f) => f.name === e.file || f.stem === e.file)?.name ?? e.file;
    add(file, e.column, 'excluded');
  }
  return byFile;
}

/** Scores one layout's plan against its truth, column by column. */
export function scoreLayout(
  layout: string,
  plan: MappingPlan,
  files: readonly MappingFile[],
  truth: LayoutTruth,
): LayoutScore {
  const predicted = predictedTargets(plan, files);
  const fileOfRole = new Map<string, string[]>();
  for (const [file, t] of Object.entries(truth.files)) {
    const list = fileOfRole.get(t.entity) ?? [];
    list.push(file);
    fileOfRole.set(t.entity, list);
  }
  const verdicts: ColumnVerdict[] = [];
  const criticalErrors: string[] = [];
  const fileErrors: string[] = [];
  for (const [file, t] of Object.entries(truth.files)) {
    if (!files.some((f) => f.name === file)) continue; // JSON automation exports are not tabular data.
    const entity = Object.entries(plan.spec.entities).find(([, e]) =>
      filesOf(e, files).some((f) => f.name === file),
    );
    const custom =
      entity !== undefined &&
      (plan.spec.customObjects ?? []).some((o) => o.nameSingular === entity[1].target);
    const kind = entity === undefined ? 'none' : custom ? 'custom' : entity[1].target;
    if (kind !== t.target) {
      const line = `${layout}/${file}: read as ${kind}, meant as ${t.target}`;
      fileErrors.push(line);
      criticalErrors.push(line);
    }
    for (const [column, want] of Object.entries(t.columns)) {
      const expected = (typeof want === 'string' ? [want] : [...want]).flatMap((w) => {
        if (!w.startsWith('ref:')) return [w];
        const accepted = w === 'ref:providers' ? [w, 'owner'] : [w];
        // Links Twenty cannot hold are kept as a custom field (the source id), which is then right:
        // an activity's targets never point at another activity, and a record links only to records
        // of its own or an earlier load phase (companies → people → opportunities → activities → custom).
        const parent = Object.values(truth.files).find((f) => f.entity === w.slice(4));
        const activity = (x: string | undefined) => x === 'task' || x === 'note';
        if (
          parent !== undefined &&
          ((activity(t.target) && activity(parent.target)) ||
            phaseOf(parent.target === 'custom' ? 'customObject' : parent.target) >
              phaseOf(t.target === 'custom' ? 'customObject' : t.target))
        )
          accepted.push('custom');
        return accepted;
      });
      const raw = [...(predicted.get(file)?.get(column) ?? new Set<string>())];
      // A reference is right when it points at the entity that reads the intended parent file.
      const got = raw.map((p) => {
        if (!p.startsWith('ref:@')) return p;
        const parentFile = p.slice(5);
        return `ref:${truth.files[parentFile]?.entity ?? parentFile}`;
      });
      // A composite id of several columns is right where the file has no id of its own; each part keeps its field.
      const parts = got.filter((p) => p !== 'id-part');
      // A column a standard field reads and a custom field also keeps verbatim (a communication's
      // delivery outcome: the task's status, and deliveryStatus with the exact value) is scored by the
      // standard field; the verbatim copy loses nothing.
      const standardParts = parts.filter((p) => p !== 'custom');
      const scored = standardParts.length > 0 ? standardParts : parts;
      const effective = scored.length === 0 ? (got.includes('id-part') ? ['dropped'] : ['dropped']) : scored;
      const wrongIdPart = got.includes('id-part') && Object.values(t.columns).some((w) => w === 'id');
      const correct = !wrongIdPart && effective.every((p) => expected.includes(p));
      const critical = expected.some((e) => CRITICAL.test(e)) || effective.some((p) => CRITICAL.test(p));
      verdicts.push({ file, column, expected, predicted: effective, correct, critical });
      if (!correct && critical)
        criticalErrors.push(
          `${layout}/${file}: ${column} → ${effective.join('+')} (meant ${expected.join(' | ')})`,
        );
    }
  }
  return {
    layout,
    columns: verdicts.length,
    correct: verdicts.filter((v) => v.correct).length,
    verdicts,
    criticalErrors,
    fileErrors,
  };
}
