import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { artifactTagsFor, INTERMEDIATE_ARTIFACT_TAG } from '../../../lambdas/adapters/artifact-tags.ts';
import { S3ObjectStore } from '../../../lambdas/adapters/s3-object-store.ts';
import { secureDefaults } from '../../../lib/infra/secure-defaults.ts';

describe('artifactTagsFor', () => {
  it('tags the intermediate artefacts of a run (raw chunks, load intents)', () => {
    for (const key of [
      'runs/r1/chunks/patients/00001.ndjson',
      'runs/r1/chunks/manifest.json',
      'runs/r1/load-intent/02-people/patients/00001.json',
    ])
      expect(artifactTagsFor(key), key).toEqual({ 'ferry-artifact': 'chunk' });
  });

  it('leaves plans, reports, rejects, the audit and the load lines rollback reads untagged', () => {
    for (const key of [
      'runs/r1/load/02-people/patients/00001.ndjson',
      'runs/r1/load/02-people.json',
      'runs/r1/plan.json',
      'runs/r1/reconciliation.json',
      'runs/r1/rejects.csv',
      'runs/r1/load-stats/02-people/patients/00001.json',
      'runs/r1/audit/before-images/x.json',
      'drop/clinic/chunks/patients.csv',
    ])
      expect(artifactTagsFor(key), key).toBeUndefined();
  });

  it('is the tag the work bucket lifecycle rule filters on', () => {
    expect(secureDefaults.chunkTag).toEqual(INTERMEDIATE_ARTIFACT_TAG);
  });
});

describe('S3ObjectStore tagging', () => {
  it('sends the Tagging header for tagged keys only', async () => {
    const sent: Array<{ input: Record<string, unknown> }> = [];
    const client = {
      send: async (command: { input: Record<string, unknown> }) => {
        sent.push(command);
        return {};
      },
    } as unknown as S3Client;
    const store = new S3ObjectStore(client, 'work', { tagsFor: artifactTagsFor });
    await store.put('runs/r1/chunks/patients/00001.ndjson', '{}');
    await store.put('runs/r1/plan.json', '{}');
    expect(sent.map((c) => c.input.Tagging)).toEqual(['ferry-artifact=chunk', undefined]);
  });
});
