import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import {
  type ChunkManifest,
  ChunkManifestSchema,
  type ChunkRef,
  ChunkRowSchema,
} from '../inventory/manifest.ts';
import { type Plan, PlanSchema } from '../inventory/plan.ts';
import { fileGlob } from '../mapping/file-glob.ts';
import { type MappingSpec, parseMappingSpec } from '../mapping/spec.ts';
import { manifestKeyFor, mappingKeyFor, readArtifact, readArtifactIfPresent } from '../run-layout.ts';

/**
 * What the stages after Segment read from the work bucket: the approved mapping, the plan, the chunk
 * manifest, and the chunks of one mapping entity. Shared by ApplySchema (select values seen) and
 * ResolveOwners (owner emails); payloads between states carry only the keys.
 */

/**
 * The run's plan.json, validated (readArtifact's ValidationError when missing or invalid) and checked
 * to be this run's: a payload naming another run's plan is an INVALID_PLAN ValidationError.
 */
export async function readRunPlan(work: ObjectStore, runId: string, planKey: string): Promise<Plan> {
  const plan = await readArtifact(work, planKey, PlanSchema);
  if (plan.runId !== runId)
    throw new ValidationError(`plan ${planKey} belongs to another run`, { code: 'INVALID_PLAN' });
  return plan;
}

/**
 * The run's mapping spec: `runs/<runId>/mapping.json` (what the operator approved, possibly edited),
 * else the plan's `mapping` section (the spec itself or `{spec}`). ValidationError names the source
 * and the broken paths (parseMappingSpec never echoes values).
 */
export async function readRunMapping(work: ObjectStore, runId: string, plan?: Plan): Promise<MappingSpec> {
  const key = mappingKeyFor(runId);
  const stored = await readArtifactIfPresent(work, key, z.unknown());
  if (stored !== undefined) return parseMappingSpec(stored, key);
  const section = (plan as Record<string, unknown> | undefined)?.mapping;
  if (section !== undefined && section !== null) {
    const candidate =
      typeof section === 'object' && 'spec' in section && !('entities' in section)
        ? (section as { spec: unknown }).spec
        : section;
    return parseMappingSpec(candidate, 'plan.json mapping');
  }
  throw new NotFoundError(`run ${runId} has no mapping: neither ${key} nor a plan mapping section exists`);
}

/** The chunk manifest Segment wrote; undefined when Segment has not run. */
export async function readManifest(work: ObjectStore, runId: string): Promise<ChunkManifest | undefined> {
  return readArtifactIfPresent(work, manifestKeyFor(runId), ChunkManifestSchema);
}

/**
 * The chunks of the files an entity reads: its `files` globs matched case-insensitively against each
 * file's path in the drop folder and its base name (profiles bind entities to exact names).
 */
export function entityChunks(
  files: readonly string[],
  plan: Plan,
  manifest: ChunkManifest,
): Array<{ file: string; chunks: readonly ChunkRef[] }> {
  const patterns = files.map(fileGlob);
  const out: Array<{ file: string; chunks: readonly ChunkRef[] }> = [];
  for (const file of plan.files) {
    const base = file.name.split('/').pop() ?? file.name;
    if (!patterns.some((p) => p.test(file.name) || p.test(base))) continue;
    const entry = manifest.files.find((f) => f.stem === file.stem);
    if (entry) out.push({ file: file.name, chunks: entry.chunks });
  }
  return out;
}

/**
 * Streams the rows of chunks one chunk at a time (a chunk is ≤ 20,000 rows, so memory stays bounded).
 * Yields the cells only: callers read the columns they need and keep no row.
 */
export async function* chunkRows(
  work: ObjectStore,
  chunks: readonly ChunkRef[],
): AsyncGenerator<{ line: number; cells: Record<string, string> }> {
  for (const chunk of chunks) {
    const text = await work.getText(chunk.key);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const parsed = ChunkRowSchema.safeParse(JSON.parse(line));
      if (!parsed.success)
        throw new ValidationError(`chunk ${chunk.key} holds a malformed row`, { code: 'INVALID_CHUNK' });
      yield parsed.data;
    }
  }
}
