import { describe, expect, it } from 'vitest';
import { aslRuleViolations, readAsl, stateNameOfPlaceholder } from '../../lib/infra/asl.ts';
import { constructIdOf, groupStageFunctions, type StageTask } from '../../lib/infra/stage-task.ts';
import { nestedAsl, ph } from './support.ts';

describe('readAsl', () => {
  it('finds Task states inside Distributed Maps and Parallel branches', () => {
    const features = readAsl(nestedAsl, 'nested.asl.json');
    expect(features.taskStates.map((task) => [task.stateName, task.functionPlaceholder])).toEqual([
      ['Inventory', 'InventoryFunctionArn'],
      ['Gate', 'GateFunctionArn'],
      ['LoadChunk', 'LoadChunkFunctionArn'],
      ['Reconcile', 'ReconcileFunctionArn'],
    ]);
    expect(features.placeholders).toEqual([
      'InventoryFunctionArn',
      'GateFunctionArn',
      'WorkBucketName',
      'LoadChunkFunctionArn',
      'ReconcileFunctionArn',
    ]);
    expect(features.hasDistributedMap).toBe(true);
    expect(features.itemReaderResources).toEqual(['arn:aws:states:::s3:getObject']);
    expect(aslRuleViolations(features, 'nested.asl.json')).toEqual([]);
  });

  it('reports no Distributed Map for an inline Map', () => {
    const inline = JSON.stringify({
      StartAt: 'M',
      States: {
        M: { Type: 'Map', Iterator: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true },
      },
    });
    expect(readAsl(inline, 'inline.asl.json').hasDistributedMap).toBe(false);
  });

  it('names the file and state when a Task uses an integration or placeholder the app cannot grant', () => {
    const bad = JSON.stringify({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Next: 'B' },
        B: { Type: 'Task', Resource: ph('OtherFunctionArn'), End: true },
      },
    });
    expect(aslRuleViolations(readAsl(bad, 'bad.asl.json'), 'bad.asl.json')).toEqual([
      'bad.asl.json: Task state A uses an integration this app grants nothing for',
      `bad.asl.json: Task state B must name its Lambda as ${ph('BFunctionArn')}`,
    ]);
  });

  it('rejects text that is not a state machine, naming the file', () => {
    expect(() => readAsl('{', 'x.asl.json')).toThrow('x.asl.json: not valid JSON');
    expect(() => readAsl('{}', 'y.asl.json')).toThrow('y.asl.json: a state machine needs a "States" object');
  });

  it('reads the state name out of a function placeholder', () => {
    expect(stateNameOfPlaceholder('AwaitPlanApprovalFunctionArn')).toBe('AwaitPlanApproval');
    expect(stateNameOfPlaceholder('WorkBucketName')).toBeUndefined();
    expect(stateNameOfPlaceholder('FunctionArn')).toBeUndefined();
  });
});

describe('groupStageFunctions', () => {
  const base = { handlerEntry: 'lambdas/tasks/await-approval/handler.ts', timeoutSeconds: 30, memoryMb: 256 };

  it('merges states sharing a function into the union of their access and the largest limits', () => {
    const tasks: StageTask[] = [
      {
        ...base,
        stateName: 'AwaitPlanApproval',
        functionId: 'await-approval',
        access: { work: 'read', runs: 'readwrite' },
      },
      {
        ...base,
        stateName: 'AwaitSampleApproval',
        functionId: 'await-approval',
        access: { work: 'readwrite', sendTaskResult: true },
        timeoutSeconds: 60,
      },
    ];
    expect(groupStageFunctions(tasks)).toEqual([
      {
        functionId: 'await-approval',
        handlerEntry: base.handlerEntry,
        stateNames: ['AwaitPlanApproval', 'AwaitSampleApproval'],
        access: {
          drop: undefined,
          work: 'readwrite',
          runs: 'readwrite',
          ledger: undefined,
          rateLimit: false,
          twenty: false,
          sendTaskResult: true,
        },
        timeoutSeconds: 60,
        memoryMb: 256,
      },
    ]);
  });

  it('refuses one function id with two handlers, and ids that are not kebab-case', () => {
    expect(() =>
      groupStageFunctions([
        { ...base, stateName: 'A', functionId: 'same', access: {} },
        {
          ...base,
          stateName: 'B',
          functionId: 'same',
          access: {},
          handlerEntry: 'lambdas/tasks/other/handler.ts',
        },
      ]),
    ).toThrow('states of function same must share one handlerEntry');
    expect(() =>
      groupStageFunctions([{ ...base, stateName: 'A', functionId: 'NotKebab', access: {} }]),
    ).toThrow('functionId of state A must be kebab-case');
  });

  it('derives PascalCase construct ids', () => {
    expect(constructIdOf('load-chunk')).toBe('LoadChunk');
  });
});
