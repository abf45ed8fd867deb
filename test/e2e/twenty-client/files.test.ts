import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { type RunningSandbox, sandboxAndClient, syntheticPerson, testId } from './helpers.ts';

describe.each(['v1', 'v2'] as const)('TwentyClient file upload against the %s sandbox', (flavor) => {
  let sandbox: RunningSandbox;
  let client: TwentyClient;

  beforeAll(async () => {
    ({ sandbox, client } = await sandboxAndClient({ flavor }));
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('uploads bytes, attaches them to a person and reads the same bytes back', async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 251);
    const uploaded = await client.uploadFile(bytes, 'xray-synthetic.png', 'image/png');
    expect(uploaded.path).toMatch(/\.png$/);
    if (flavor === 'v2') expect(uploaded.fileId).toBeTruthy();
    const back = await client.downloadFile(uploaded.path);
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);
    const dump = await sandbox.dump();
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(dump.files.map((f) => f.sha256)).toContain(sha);

    const model = await client.metadata();
    const person = syntheticPerson(40, 1);
    await client.createMany('people', [person]);
    const attachment: Record<string, unknown> & { id: string } = {
      id: testId(41, 1),
      name: 'xray-synthetic.png',
      [model.joinColumn('person', 'attachment')]: person.id,
    };
    if (flavor === 'v1') attachment.fullPath = uploaded.path;
    const result = await client.createMany('attachments', [attachment]);
    expect(result.failed).toEqual([]);
    const stored = await client.findOne('attachments', attachment.id);
    expect(stored[model.joinColumn('person', 'attachment')]).toBe(person.id);
  });

  it("deletes an attachment's file when the attachment is destroyed (Twenty's FileDeletionJob), not when it is soft-deleted", async () => {
    const bytes = new Uint8Array(512).map((_, i) => (i * 7) % 251);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const uploaded = await client.uploadFile(bytes, 'consent-synthetic.pdf', 'application/pdf');
    const model = await client.metadata();
    const person = syntheticPerson(42, 1);
    await client.createMany('people', [person]);
    const attachment: Record<string, unknown> & { id: string } = {
      id: testId(43, 1),
      name: 'consent-synthetic.pdf',
      fullPath: uploaded.path,
      [model.joinColumn('person', 'attachment')]: person.id,
    };
    expect((await client.createMany('attachments', [attachment])).failed).toEqual([]);
    await client.softDelete('attachments', attachment.id);
    expect((await sandbox.dump()).files.map((f) => f.sha256)).toContain(sha);
    expect(await client.destroy('attachments', attachment.id)).toBe(true);
    expect((await sandbox.dump()).files.map((f) => f.sha256)).not.toContain(sha);
  });
});
