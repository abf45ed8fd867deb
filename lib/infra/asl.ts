/**
 * Pure reading of an ASL (Amazon States Language) document: which Task states it has, which
 * `${Placeholder}`s it expects CDK to substitute, and which Step Functions features (Distributed
 * Map, ItemReader) it uses. The state machine construct derives IAM grants and definition
 * substitutions from these facts, so the ASL file stays the single definition of a workflow and
 * the infrastructure can never drift from it.
 */

/** A Task state found anywhere in a definition (top level, Map item processors, Parallel branches). */
export interface AslTaskState {
  readonly stateName: string;
  readonly resource: string;
  /** The `${…}` placeholder naming the Lambda, from `Resource` or `Parameters.FunctionName`. */
  readonly functionPlaceholder: string | undefined;
}

/** What a definition needs from the infrastructure, beyond invoking its Lambdas. */
export interface AslFeatures {
  readonly taskStates: readonly AslTaskState[];
  /** Every `${Name}` in the document, de-duplicated, in first-seen order. */
  readonly placeholders: readonly string[];
  /** A Map with `ProcessorConfig.Mode = DISTRIBUTED` starts child executions of its own machine. */
  readonly hasDistributedMap: boolean;
  /** ItemReader resources used (e.g. `arn:aws:states:::s3:getObject`). */
  readonly itemReaderResources: readonly string[];
}

/** Suffix that marks a placeholder as the ARN of the Lambda behind a Task state. */
export const FUNCTION_ARN_SUFFIX = 'FunctionArn';

/** Lambda integrations a Task state may use; anything else would need grants this app does not give. */
export const LAMBDA_INTEGRATIONS: readonly string[] = [
  'arn:aws:states:::lambda:invoke',
  'arn:aws:states:::lambda:invoke.waitForTaskToken',
];

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function placeholderIn(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\$\{([A-Za-z0-9_]+)\}$/.exec(value);
  return match?.[1];
}

/**
 * Parses ASL text and walks every nested state machine (Map `ItemProcessor`/`Iterator`, Parallel
 * `Branches`). Throws naming the file and the rule when the text is not a state machine.
 */
export function readAsl(aslText: string, fileName: string): AslFeatures {
  let document: unknown;
  try {
    document = JSON.parse(aslText);
  } catch {
    throw new Error(`${fileName}: not valid JSON`);
  }
  if (!isRecord(document) || !isRecord(document.States)) {
    throw new Error(`${fileName}: a state machine needs a "States" object`);
  }

  const taskStates: AslTaskState[] = [];
  const itemReaderResources: string[] = [];
  let hasDistributedMap = false;

  const walk = (machine: Record<string, unknown>, path: string): void => {
    const states = machine.States;
    if (!isRecord(states)) throw new Error(`${fileName}: ${path} needs a "States" object`);
    for (const [stateName, state] of Object.entries(states)) {
      if (!isRecord(state)) throw new Error(`${fileName}: state ${stateName} must be an object`);
      if (state.Type === 'Task') {
        if (typeof state.Resource !== 'string') {
          throw new Error(`${fileName}: Task state ${stateName} needs a string Resource`);
        }
        const parameters = isRecord(state.Parameters) ? state.Parameters : {};
        taskStates.push({
          stateName,
          resource: state.Resource,
          functionPlaceholder: placeholderIn(state.Resource) ?? placeholderIn(parameters.FunctionName),
        });
      }
      if (state.Type === 'Map') {
        const processor = isRecord(state.ItemProcessor) ? state.ItemProcessor : state.Iterator;
        if (!isRecord(processor))
          throw new Error(`${fileName}: Map state ${stateName} needs an ItemProcessor`);
        const config = isRecord(processor.ProcessorConfig) ? processor.ProcessorConfig : {};
        if (config.Mode === 'DISTRIBUTED') hasDistributedMap = true;
        if (isRecord(state.ItemReader) && typeof state.ItemReader.Resource === 'string') {
          itemReaderResources.push(state.ItemReader.Resource);
        }
        walk(processor, `${path}/${stateName}`);
      }
      if (state.Type === 'Parallel') {
        if (!Array.isArray(state.Branches))
          throw new Error(`${fileName}: Parallel state ${stateName} needs Branches`);
        state.Branches.forEach((branch, index) => {
          if (!isRecord(branch))
            throw new Error(`${fileName}: Parallel state ${stateName} branch ${index} is not an object`);
          walk(branch, `${path}/${stateName}[${index}]`);
        });
      }
    }
  };
  walk(document, '$');

  const placeholders = [...new Set([...aslText.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''))];
  return {
    taskStates,
    placeholders,
    hasDistributedMap,
    itemReaderResources: [...new Set(itemReaderResources)],
  };
}

/**
 * The state name a Task's Lambda placeholder refers to (`InventoryFunctionArn` → `Inventory`), or
 * undefined when the placeholder is not a function ARN.
 */
export function stateNameOfPlaceholder(placeholder: string): string | undefined {
  if (!placeholder.endsWith(FUNCTION_ARN_SUFFIX) || placeholder === FUNCTION_ARN_SUFFIX) return undefined;
  return placeholder.slice(0, -FUNCTION_ARN_SUFFIX.length);
}

/**
 * Checks the rules the infrastructure relies on: every Task invokes a Lambda through a
 * `${<StateName>FunctionArn}` placeholder named after a state, directly or via a Lambda
 * integration. Returns one sentence per broken rule (state name + rule, no values).
 */
export function aslRuleViolations(features: AslFeatures, fileName: string): string[] {
  const problems: string[] = [];
  for (const task of features.taskStates) {
    const direct = placeholderIn(task.resource) !== undefined;
    if (!direct && !LAMBDA_INTEGRATIONS.includes(task.resource)) {
      problems.push(
        `${fileName}: Task state ${task.stateName} uses an integration this app grants nothing for`,
      );
      continue;
    }
    const named =
      task.functionPlaceholder === undefined ? undefined : stateNameOfPlaceholder(task.functionPlaceholder);
    if (named !== task.stateName) {
      problems.push(
        `${fileName}: Task state ${task.stateName} must name its Lambda as \${${task.stateName}${FUNCTION_ARN_SUFFIX}}`,
      );
    }
  }
  return problems;
}
