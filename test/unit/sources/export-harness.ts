import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { profileEncoding } from '../../../lambdas/core/csv/encoding.ts';
import { readCsv } from '../../../lambdas/core/csv/reader.ts';
import { compileEntity, type SourceCells } from '../../../lambdas/core/mapping/map-record.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { profileFor } from '../../../lambdas/core/sources/index.ts';
import { createEntityValidator } from '../../../lambdas/core/validation/validate-entity.ts';
import type { ExpectedExport } from '../../../lib/generate/index.ts';

/** What the pipeline found for one entity, in expected.json's shape. */
export interface Observed {
  rows: number;
  loaded: number;
  skipped: number;
  rejects: Record<string, number>;
  warnings: Record<string, number>;
}

interface ReadFile {
  rows: Array<{ line: number; cells: SourceCells }>;
  readerRejects: Record<string, number>;
  total: number;
}

async function readFile(path: string, file: string): Promise<ReadFile> {
  const { encoding } = await profileEncoding(createReadStream(path));
  const rows: ReadFile['rows'] = [];
  const readerRejects: Record<string, number> = {};
  let header: readonly string[] = [];
  const result = await readCsv(
    createReadStream(path),
    { file, encoding },
    {
      header(columns) {
        header = columns;
      },
      row(view) {
        const values = view.cells();
        const cells: Record<string, string> = {};
        header.forEach((h, i) => {
          cells[h] = values[i] ?? '';
        });
        rows.push({ line: view.line, cells });
      },
      reject(r) {
        readerRejects[r.reason] = (readerRejects[r.reason] ?? 0) + 1;
      },
    },
  );
  return { rows, readerRejects, total: result.rows };
}

const add = (o: Record<string, number>, k: string, n = 1): void => {
  o[k] = (o[k] ?? 0) + n;
};

/**
 * Runs a generated export through what Segment and LoadChunk do per row — the CSV core, the
 * profile's mapping (compiled), the entity validator (duplicates, orphans, family emails) —
 * plus the profile's pivot/reference handling and the attachment file check, and counts the
 * outcome per entity so a test can compare it with expected.json.
 */
export async function reconcileExport(
  dir: string,
  expected: ExpectedExport,
): Promise<Record<string, Observed>> {
  const profile = profileFor(expected.source);
  const spec = parseMappingSpec(profile.mapping, expected.source);
  const ctx = { options: spec.options, now: Date.UTC(2025, 5, 1), phi: spec.phi };
  const files = new Map<string, ReadFile>();
  const ids = new Map<string, Set<string>>();
  for (const [entity, e] of Object.entries(expected.entities)) {
    const read = await readFile(join(dir, e.file), e.file);
    files.set(entity, read);
    const idColumn =
      spec.entities[entity]?.idColumn ?? profile.pivots.find((p) => p.entity === entity)?.idColumn ?? '';
    ids.set(entity, new Set(read.rows.map((r) => (r.cells[idColumn] ?? '').trim())));
  }
  const has = (entity: string, id: string): boolean => ids.get(entity)?.has(id) ?? false;
  const observed: Record<string, Observed> = {};
  for (const [entity, read] of files) {
    const out: Observed = {
      rows: read.total,
      loaded: 0,
      skipped: 0,
      rejects: { ...read.readerRejects },
      warnings: {},
    };
    observed[entity] = out;
    const entitySpec = spec.entities[entity];
    const pivot = profile.pivots.find((p) => p.entity === entity);
    if (profile.references.some((r) => r.entity === entity)) {
      out.skipped = read.rows.length;
    } else if (pivot !== undefined) {
      for (const { cells } of read.rows) {
        if ((cells[pivot.keyColumn] ?? '').trim() === '') add(out.rejects, 'MISSING_REQUIRED');
        else if (!has(pivot.into, (cells[pivot.idColumn] ?? '').trim())) add(out.rejects, 'ORPHAN_REFERENCE');
        else out.loaded++;
      }
    } else if (entitySpec !== undefined) {
      const validator = createEntityValidator({
        file: expected.entities[entity]?.file ?? entity,
        entity: compileEntity(entity, entitySpec, ctx),
        has,
      });
      for (const row of read.rows) {
        const result = validator.check(row);
        if (!result.ok) {
          add(out.rejects, result.rejects[0]?.reason ?? 'UNKNOWN');
          continue;
        }
        if (
          entitySpec.target === 'attachment' &&
          !existsSync(join(dir, 'documents', String(result.record.fields.fullPath)))
        ) {
          add(out.rejects, 'MISSING_FILE');
          continue;
        }
        out.loaded++;
        for (const w of result.warnings) add(out.warnings, w);
      }
    } else {
      throw new Error(`profile ${expected.source} has no entity ${entity}`);
    }
  }
  return observed;
}
