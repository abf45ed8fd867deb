import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../lambdas/core/errors.ts';

/** A state of an ASL definition, kept loose: the executor validates the full grammar. */
export type AslState = { Type: string } & Record<string, unknown>;

/** An ASL state machine (or a Map/Parallel sub-machine). */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

/** The three workflows; their files in `statemachines/` are the single definition for both runtimes. */
export const machineNames = ['migrate', 'delta', 'rollback'] as const;
export type MachineName = (typeof machineNames)[number];

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of a workflow's ASL file. */
export function machinePath(machine: MachineName): string {
  return join(repoRoot, 'statemachines', `${machine}.asl.json`);
}

/** Reads and parses an ASL file, naming the file when it is not a JSON state machine. */
export function loadDefinition(path: string): AslDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`state machine file ${path} is missing or not valid JSON`, { cause: error });
  }
  if (!isDefinition(parsed)) throw new ConfigError(`state machine file ${path} has no StartAt/States`);
  return parsed;
}

function isDefinition(value: unknown): value is AslDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { StartAt?: unknown }).StartAt === 'string' &&
    typeof (value as { States?: unknown }).States === 'object'
  );
}

/** Sub-machines nested in a state: a Map's ItemProcessor/Iterator, a Parallel's Branches. */
function children(state: AslState): AslDefinition[] {
  const nested: AslDefinition[] = [];
  for (const field of ['ItemProcessor', 'Iterator']) {
    const value = state[field];
    if (isDefinition(value)) nested.push(value);
  }
  if (Array.isArray(state.Branches)) nested.push(...state.Branches.filter(isDefinition));
  return nested;
}

/** Visits every state, nested ones included (depth first, in definition order). */
export function walkStates(definition: AslDefinition, visit: (name: string, state: AslState) => void): void {
  for (const [name, state] of Object.entries(definition.States)) {
    visit(name, state);
    for (const child of children(state)) walkStates(child, visit);
  }
}

/** Names of every Task state, nested ones included: what the task registry must cover. */
export function taskStateNames(definition: AslDefinition): string[] {
  const names: string[] = [];
  walkStates(definition, (name, state) => {
    if (state.Type === 'Task') names.push(name);
  });
  return names;
}

const placeholderPattern = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** Every `${Name}` placeholder used in the definition (CDK's DefinitionSubstitutions syntax). */
export function placeholdersIn(definition: AslDefinition): Set<string> {
  const found = new Set<string>();
  for (const match of JSON.stringify(definition).matchAll(placeholderPattern))
    if (match[1]) found.add(match[1]);
  return found;
}

/**
 * Replaces `${Name}` placeholders in every string, as CDK's definition substitutions do in AWS.
 * An unknown placeholder is a configuration error rather than a literal left for the executor.
 */
export function substitutePlaceholders(
  definition: AslDefinition,
  values: Record<string, string>,
): AslDefinition {
  const replace = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(placeholderPattern, (_whole, name: string) => {
        const substitute = values[name];
        if (substitute === undefined)
          throw new ConfigError(`state machine placeholder \${${name}} has no value`);
        return substitute;
      });
    }
    if (Array.isArray(value)) return value.map(replace);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, replace(inner)]));
    }
    return value;
  };
  return replace(definition) as AslDefinition;
}

/** How the runner serves one rewritten ItemReader: which generated Task reads which object. */
export interface ItemReaderTask {
  readonly taskName: string;
  readonly mapName: string;
  readonly maxItems?: number;
}

/** Name of the listing Task that replaces a Map's ItemReader locally. */
export function itemReaderTaskName(mapName: string): string {
  return `${mapName}ItemReader`;
}

/**
 * Rewrites every Distributed Map that reads its items with an `ItemReader` (which the local executor
 * cannot run) into a listing Task followed by an inline Map, keeping MaxConcurrency, ItemSelector,
 * Retry/Catch, ResultSelector/ResultPath/OutputPath. The listing Task evaluates the reader's
 * Parameters (Bucket, Key.$) against the same input and stores the items where the Map's result
 * will go, so the Map's ResultPath overwrites them and the state's output equals the AWS one.
 * With `ResultPath: null` the items stay in the state under `ferryLocalItems` (AWS has no such key).
 * Unsupported (rejected, naming the state): InputPath other than `$`, ItemBatcher, ResultWriter,
 * readers other than s3:getObject with JSON input.
 */
export function rewriteDistributedMaps(definition: AslDefinition): {
  definition: AslDefinition;
  readers: ItemReaderTask[];
} {
  const readers: ItemReaderTask[] = [];
  const rewrite = (machine: AslDefinition): AslDefinition => {
    const states: Record<string, AslState> = {};
    for (const [name, original] of Object.entries(machine.States)) {
      const state: AslState = { ...original };
      for (const field of ['ItemProcessor', 'Iterator']) {
        const value = state[field];
        if (isDefinition(value)) state[field] = rewrite(value);
      }
      if (Array.isArray(state.Branches))
        state.Branches = state.Branches.map((b) => (isDefinition(b) ? rewrite(b) : b));
      if (state.Type !== 'Map' || state.ItemReader === undefined) {
        states[name] = state;
        continue;
      }
      const reader = state.ItemReader as {
        Resource?: unknown;
        ReaderConfig?: { InputType?: unknown; MaxItems?: unknown };
        Parameters?: unknown;
      };
      const where = `Map state ${name}`;
      if (reader.Resource !== 'arn:aws:states:::s3:getObject' || reader.ReaderConfig?.InputType !== 'JSON') {
        throw new ConfigError(
          `${where}: the local runner reads ItemReader s3:getObject with InputType JSON only`,
        );
      }
      if (state.ItemBatcher !== undefined || state.ResultWriter !== undefined) {
        throw new ConfigError(`${where}: ItemBatcher and ResultWriter are not supported by the local runner`);
      }
      if (state.InputPath !== undefined && state.InputPath !== '$') {
        throw new ConfigError(`${where}: an ItemReader Map must not set InputPath for the local runner`);
      }
      // ResultPath null (AWS: the Map's output is its input) keeps the listed items under a
      // local-only key the Map then reads; a later state that rebuilds its input drops them.
      const resultPath = typeof state.ResultPath === 'string' ? state.ResultPath : '$';
      const itemsPath = state.ResultPath === null || resultPath === '$' ? '$.ferryLocalItems' : resultPath;
      const taskName = itemReaderTaskName(name);
      if (machine.States[taskName] !== undefined)
        throw new ConfigError(`${where}: state name ${taskName} is taken`);
      const maxItems =
        typeof reader.ReaderConfig.MaxItems === 'number' ? reader.ReaderConfig.MaxItems : undefined;
      readers.push(
        maxItems === undefined ? { taskName, mapName: name } : { taskName, mapName: name, maxItems },
      );

      const listing: AslState = {
        Type: 'Task',
        Comment: `Local stand-in for ${name}'s ItemReader`,
        Resource: `arn:aws:lambda:us-east-1:000000000000:function:ferry-local-item-reader`,
        Parameters: reader.Parameters ?? {},
        ResultPath: itemsPath,
        Next: name,
      };
      if (state.Catch !== undefined) listing.Catch = state.Catch;
      const inline: AslState = { ...state, ItemsPath: itemsPath };
      delete inline.ItemReader;
      delete inline.ToleratedFailurePercentage;
      delete inline.ToleratedFailureCount;
      delete inline.ToleratedFailurePercentagePath;
      delete inline.ToleratedFailureCountPath;
      delete inline.Label;
      const processor = inline.ItemProcessor as { ProcessorConfig?: unknown } | undefined;
      if (processor?.ProcessorConfig !== undefined) {
        inline.ItemProcessor = { ...processor, ProcessorConfig: { Mode: 'INLINE' } };
      }
      states[taskName] = listing;
      states[name] = inline;
    }
    // Anything that pointed at a rewritten Map now enters through its listing Task.
    const entry = (target: string): string =>
      readers.some((r) => r.mapName === target && states[r.taskName]) ? itemReaderTaskName(target) : target;
    for (const [name, state] of Object.entries(states)) {
      if (readers.some((r) => r.taskName === name)) continue;
      if (typeof state.Next === 'string') state.Next = entry(state.Next);
      if (typeof state.Default === 'string') state.Default = entry(state.Default);
      if (Array.isArray(state.Choices)) {
        state.Choices = state.Choices.map((choice: { Next?: unknown }) =>
          typeof choice.Next === 'string' ? { ...choice, Next: entry(choice.Next) } : choice,
        );
      }
      if (Array.isArray(state.Catch)) {
        state.Catch = state.Catch.map((c: { Next?: unknown }) =>
          typeof c.Next === 'string' ? { ...c, Next: entry(c.Next) } : c,
        );
      }
    }
    return { ...machine, StartAt: entry(machine.StartAt), States: states };
  };
  return { definition: rewrite(definition), readers };
}
