import { describe, expect, it } from 'vitest';
import type { TaskDeps } from '../../lambdas/tasks/deps.ts';
import { type TaskEntry, taskByState } from '../../lambdas/tasks/registry.ts';
import { autoApprover } from '../../lib/local/approvals.ts';
import type { AslDefinition } from '../../lib/local/asl-definition.ts';
import { runAsl } from '../../lib/local/asl-runner.ts';
import { resourcesOfType, synthFerry } from './support.ts';

/**
 * The rollback machine as deployed validates its input (what an operator pastes in the console)
 * before any function runs: the synthesized definition is run through the local executor with
 * recording tasks in place of the Lambdas.
 */
describe('rollback state machine input', () => {
  const { template } = synthFerry();
  const machine = Object.values(resourcesOfType(template, 'AWS::StepFunctions::StateMachine')).find(
    (candidate) => candidate.Properties?.StateMachineName === 'FerryTest-rollback',
  );
  const text = machine?.Properties?.DefinitionString;

  const run = async (input: unknown) => {
    const calls: { state: string; input: unknown }[] = [];
    const recording = (stateName: string, output: unknown): TaskEntry => ({
      ...taskByState(stateName),
      run: async (payload) => {
        calls.push({ state: stateName, input: payload });
        return output;
      },
    });
    const tasks = [
      recording('Rollback', { runId: 'r', cursor: 'done', done: true, waitSeconds: 0 }),
      recording('FailRun', {}),
    ];
    const deps = {
      work: { bucket: 'work' },
      drop: { bucket: 'drop' },
      clock: { now: () => Date.now() },
    } as unknown as TaskDeps;
    const result = await runAsl({
      definition: JSON.parse(String(text)) as AslDefinition,
      machineName: 'rollback',
      executionName: 'infra-rollback-input',
      input,
      tasks,
      deps,
      approver: autoApprover('infra'),
    });
    return { result, calls };
  };

  it('is the ASL file, synthesized with its placeholders', () => {
    expect(typeof text).toBe('string');
    const definition = JSON.parse(String(text)) as {
      StartAt: string;
      States: Record<string, { Type: string }>;
    };
    expect(definition.StartAt).toBe('CheckInput');
    expect(definition.States.InvalidInput?.Type).toBe('Fail');
  });

  it('passes {runId} and removeSchema on (false when absent) and starts the Rollback tick', async () => {
    for (const [input, removeSchema] of [
      [{ runId: '20260101T000000-abcdef' }, false],
      [{ runId: '20260101T000000-abcdef', removeSchema: false }, false],
      [{ runId: '20260101T000000-abcdef', removeSchema: true }, true],
    ] as const) {
      const { result, calls } = await run(input);
      expect(result.status).toBe('SUCCEEDED');
      expect(calls).toEqual([
        { state: 'Rollback', input: { runId: '20260101T000000-abcdef', removeSchema } },
      ]);
    }
  });

  it('refuses a missing, empty or non-string runId and a non-boolean removeSchema, calling nothing', async () => {
    for (const input of [
      {},
      { runid: 'x' },
      { runId: '' },
      { runId: 7 },
      { runId: null },
      { runId: 'x', removeSchema: 'true' },
    ]) {
      const { result, calls } = await run(input);
      expect(result.status, JSON.stringify(input)).toBe('FAILED');
      expect(result.error?.name).toBe('InvalidInput');
      expect(calls).toEqual([]);
    }
  });
});
