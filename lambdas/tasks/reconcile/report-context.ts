import { z } from 'zod';
import type { ReportContext } from '../../core/reconcile/html.ts';
import { ownersKeyFor, readArtifactIfPresent, schemaChangesKeyFor } from '../../core/run-layout.ts';
import type { ObjectStore } from '../../ports/object-store.ts';

/** An artefact the report may show, undefined when it is missing or cannot be read. */
async function readJson(work: ObjectStore, key: string): Promise<unknown> {
  try {
    return await readArtifactIfPresent(work, key, z.unknown());
  } catch {
    return undefined;
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const list = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];

/**
 * What report.html shows beside the reconciliation, from the run's other artefacts: owner matching
 * counts (owners.json, counts only: staff emails stay in the owners report), the custom schema
 * ApplySchema created (schema-changes.json: object and field names) and the workflows to rebuild
 * by hand (workflows.json: names, triggers, status). Missing or unreadable files are left out.
 */
export async function reportContext(
  work: ObjectStore,
  runId: string,
  workflowsKey: string | undefined,
): Promise<ReportContext> {
  const context: ReportContext = { owners: [], schema: [], workflows: [] };
  const owners = (await readJson(work, ownersKeyFor(runId))) as { entities?: unknown } | undefined;
  if (owners && typeof owners.entities === 'object' && owners.entities !== null) {
    for (const [entity, raw] of Object.entries(owners.entities as Record<string, Record<string, unknown>>)) {
      context.owners.push({
        entity,
        rowsWithOwner: num(raw.rowsWithOwner),
        matched: num(raw.matched),
        unmatched: num(raw.unmatched),
        rowsOnFallback: num(raw.rowsOnFallback),
        rowsUnassigned: num(raw.rowsUnassigned),
      });
    }
  }
  const applied = (await readJson(work, schemaChangesKeyFor(runId))) as { changes?: unknown } | undefined;
  const schema =
    typeof applied?.changes === 'object' && applied.changes !== null
      ? (applied.changes as Record<string, unknown>)
      : undefined;
  if (schema) {
    for (const o of list(schema.objects)) context.schema.push({ kind: 'object', name: text(o.nameSingular) });
    for (const f of list(schema.fields))
      context.schema.push({ kind: 'field', name: `${text(f.object)}.${text(f.name)}`, type: text(f.type) });
    for (const r of list(schema.relations))
      context.schema.push({
        kind: 'relation',
        name: `${text(r.object)}.${text(r.name)}`,
        type: text(r.target),
      });
    for (const o of list(schema.options))
      context.schema.push({
        kind: 'options',
        name: `${text(o.object)}.${text(o.field)}`,
        type: `${list(o.options).length} option(s)`,
      });
  }
  if (workflowsKey) {
    const workflows = (await readJson(work, workflowsKey)) as { files?: unknown } | undefined;
    for (const file of list(workflows?.files)) {
      for (const w of list(file.workflows)) {
        context.workflows.push({
          file: text(file.file),
          name: text(w.name),
          trigger: text(w.trigger),
          status: text(w.status),
        });
      }
    }
  }
  return context;
}
