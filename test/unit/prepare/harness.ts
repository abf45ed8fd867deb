import { Readable } from 'node:stream';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { profileEncoding } from '../../../lambdas/core/csv/encoding.ts';
import { readCsv } from '../../../lambdas/core/csv/reader.ts';
import { type Plan, PlanSchema } from '../../../lambdas/core/inventory/plan.ts';
import {
  type LoadManifestItem,
  LoadManifestSchema,
  type MappedLine,
  MappedLineSchema,
  type PrepareStats,
  PrepareStatsSchema,
  prepareRejectsKey,
  prepareStatsKey,
  type RejectLine,
  RejectLineSchema,
} from '../../../lambdas/core/load/format.ts';
import {
  type MappingSpec,
  type MappingSpecInput,
  parseMappingSpec,
} from '../../../lambdas/core/mapping/spec.ts';
import type { TargetModelInput } from '../../../lambdas/core/prepare/target-model.ts';
import type { Clock } from '../../../lambdas/ports/clock.ts';
import type { TwentyApi } from '../../../lambdas/ports/twenty.ts';
import type { TaskDeps } from '../../../lambdas/tasks/deps.ts';
import { inventory } from '../../../lambdas/tasks/inventory/inventory.ts';
import { prepare } from '../../../lambdas/tasks/prepare/prepare.ts';
import type { PrepareInput, PrepareOutput } from '../../../lambdas/tasks/prepare/schema.ts';
import { resolveOwnersStage } from '../../../lambdas/tasks/resolve-owners/resolve-owners.ts';
import { segment } from '../../../lambdas/tasks/segment/segment.ts';
import { memoryDeps } from '../memory-deps.ts';

export const RUN_ID = 'run-prepare-1';
export const FOLDER = 'drop/clinic-a/';

const STANDARD_PLURALS: Record<string, string> = {
  company: 'companies',
  person: 'people',
  opportunity: 'opportunities',
  task: 'tasks',
  note: 'notes',
  attachment: 'attachments',
  taskTarget: 'taskTargets',
  noteTarget: 'noteTargets',
};

/** A target model as ApplySchema would write it, for a v1 or v2 workspace plus the spec's custom objects. */
export function targetModelFor(spec: MappingSpec, flavor: 'v1' | 'v2' = 'v2'): TargetModelInput {
  const plural: Record<string, string> = { ...STANDARD_PLURALS };
  for (const o of spec.customObjects) plural[o.nameSingular] = o.namePlural;
  const objects = Object.keys(plural).filter((o) => !['taskTarget', 'noteTarget', 'attachment'].includes(o));
  const column = (o: string): string =>
    flavor === 'v2' ? `target${o.charAt(0).toUpperCase()}${o.slice(1)}Id` : `${o}Id`;
  const columns = Object.fromEntries(objects.map((o) => [o, column(o)]));
  return { flavor, plural, joinColumns: { taskTarget: columns, noteTarget: columns, attachment: columns } };
}

export interface Prepared {
  deps: TaskDeps & { drop: MemoryObjectStore; work: MemoryObjectStore };
  output: PrepareOutput;
  stats: PrepareStats;
  rejects: RejectLine[];
  /** Lines of every chunk of an entity, in chunk order. */
  lines(entity: string): Promise<MappedLine[]>;
  manifest(key: string): Promise<LoadManifestItem[]>;
}

export interface Scenario {
  /** Drop-folder relative name → body. */
  files: Record<string, string | Uint8Array>;
  /** The mapping, or a function of the plan (e.g. a profile bound to the files Inventory found). */
  mapping?: MappingSpecInput | ((plan: Plan) => MappingSpecInput);
  /** Epoch ms of the run's clock (birth-date checks depend on it). */
  now?: number;
  flavor?: 'v1' | 'v2';
  /** Extra work-bucket objects (owners.json, merge-candidates.json), relative to runs/<runId>/. */
  work?: Record<string, unknown>;
  input?: Partial<PrepareInput>;
  chunkSize?: number;
  /**
   * A mapping handed to Inventory as the operator's mapping file (`options.mappingKey`), built from
   * the data files' header rows; it is then also what Prepare reads.
   */
  operatorMapping?: (files: Array<{ stem: string; name: string; header: string[] }>) => MappingSpecInput;
  /** Leave target-model.json out (Prepare must refuse to guess the workspace's names). */
  omitTargetModel?: boolean;
  /**
   * Workspace members (e.g. expected.json's `workspaceMembers`): when given, the real ResolveOwners
   * stage runs against a workspace with these members and writes owners.json before Prepare.
   */
  members?: ReadonlyArray<{ email: string; firstName: string; lastName: string }>;
}

/** Runs the real Inventory and Segment on synthetic files, then Prepare, and reads what it wrote. */
export async function runPrepare(scenario: Scenario): Promise<Prepared> {
  const drop = new MemoryObjectStore('drop');
  const work = new MemoryObjectStore('work');
  for (const [name, body] of Object.entries(scenario.files))
    drop.objects.set(
      `${FOLDER}${name}`,
      typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body),
    );
  const now = scenario.now ?? Date.parse('2026-01-02T03:04:05.000Z');
  const clock: Clock = { now: () => now, sleep: async () => {} };
  const deps = memoryDeps(drop, work, clock);
  let options: { mappingKey: string } | undefined;
  let operatorInput: MappingSpecInput | undefined;
  if (scenario.operatorMapping !== undefined) {
    const headers: Array<{ stem: string; name: string; header: string[] }> = [];
    for (const [name, body] of Object.entries(scenario.files)) {
      if (!/\.(csv|tsv|txt)$/i.test(name)) continue;
      let header: string[] = [];
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
      const { encoding } = await profileEncoding(Readable.from([bytes]));
      await readCsv(
        Readable.from([bytes]),
        { file: name, encoding },
        {
          header: (c) => {
            header = [...c];
          },
        },
      );
      headers.push({ stem: name.replace(/\.[^.]+$/, '').toLowerCase(), name, header });
    }
    const key = `${FOLDER}operator-mapping.yaml`;
    operatorInput = scenario.operatorMapping(headers);
    drop.objects.set(key, Buffer.from(JSON.stringify(operatorInput), 'utf8'));
    options = { mappingKey: key };
  }
  const inv = await inventory({ runId: RUN_ID, folder: FOLDER, ...(options ? { options } : {}) }, deps);
  await segment({ runId: RUN_ID, planKey: inv.planKey, chunkSize: scenario.chunkSize ?? 5_000 }, deps);
  const plan = PlanSchema.parse(JSON.parse(await work.getText(inv.planKey)));
  const written =
    scenario.mapping === undefined
      ? operatorInput
      : typeof scenario.mapping === 'function'
        ? scenario.mapping(plan)
        : scenario.mapping;
  const spec = parseMappingSpec(written);
  // The spec in the input form it was written in (what an operator's mapping file holds).
  await work.put(`runs/${RUN_ID}/mapping.json`, JSON.stringify(written));
  if (scenario.omitTargetModel !== true)
    await work.put(`runs/${RUN_ID}/target-model.json`, JSON.stringify(targetModelFor(spec, scenario.flavor)));
  for (const [name, value] of Object.entries(scenario.work ?? {}))
    await work.put(`runs/${RUN_ID}/${name}`, JSON.stringify(value));
  if (scenario.members !== undefined) {
    const members = scenario.members.map((m, i) => ({
      id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      userEmail: m.email,
      firstName: m.firstName,
      lastName: m.lastName,
    }));
    // ResolveOwners reads only the workspace members from Twenty.
    const twenty = { members: async () => members } as unknown as TwentyApi;
    await resolveOwnersStage(
      { runId: RUN_ID, planKey: inv.planKey },
      { ...deps, twenty: async () => twenty },
    );
  }
  const output = await prepare({ runId: RUN_ID, planKey: inv.planKey, ...scenario.input }, deps);
  const stats = PrepareStatsSchema.parse(JSON.parse(await work.getText(prepareStatsKey(RUN_ID))));
  const rejects = (await work.getText(prepareRejectsKey(RUN_ID)))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => RejectLineSchema.parse(JSON.parse(l)));
  const manifest = async (key: string): Promise<LoadManifestItem[]> =>
    LoadManifestSchema.parse(JSON.parse(await work.getText(key)));
  const lines = async (entity: string): Promise<MappedLine[]> => {
    const out: MappedLine[] = [];
    const items: LoadManifestItem[] = [];
    for (const p of output.phases) items.push(...(await manifest(p.manifestKey)));
    for (const item of items.filter((i) => i.entity === entity))
      for (const l of (await work.getText(item.key)).split('\n'))
        if (l !== '') out.push(MappedLineSchema.parse(JSON.parse(l)));
    return out;
  };
  return { deps, output, stats, rejects, lines, manifest };
}

/** CSV text from a header and rows (no quoting needed for the synthetic values used). */
export function csv(header: string[], rows: string[][]): string {
  return `${[header, ...rows].map((r) => r.join(',')).join('\n')}\n`;
}
