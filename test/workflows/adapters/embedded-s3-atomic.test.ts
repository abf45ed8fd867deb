import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../lambdas/adapters/s3-object-store.ts';
import {
  type EmbeddedS3,
  localBucketNames,
  localS3Client,
  startEmbeddedS3,
} from '../../../lib/local/embedded-s3.ts';

/** Sends a PUT whose body stops half way and whose connection then drops: a writer killed mid-upload. */
function abortedPut(endpoint: string, key: string, body: Buffer): Promise<void> {
  const url = new URL(`/${localBucketNames.work}/${key}`, endpoint);
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'PUT',
      headers: { 'content-length': String(body.length), 'content-type': 'application/json' },
    });
    req.on('error', () => resolve());
    req.write(body.subarray(0, Math.floor(body.length / 2)), () => {
      // Give the server time to start writing what it received, then drop the connection.
      setTimeout(() => {
        req.destroy();
        setTimeout(resolve, 200);
      }, 200);
    });
  });
}

describe('the embedded S3 server under a writer that dies mid-upload', () => {
  let dir: string;
  let s3: EmbeddedS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-s3-atomic-'));
    s3 = await startEmbeddedS3({ dir });
    store = new S3ObjectStore(localS3Client(s3.endpoint), localBucketNames.work);
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last complete version of an object, never a truncated one', async () => {
    const key = 'runs/r1/reconcile/read-back.json';
    const complete = JSON.stringify({ chunk: 3, page: 7, done: false, note: 'x'.repeat(200_000) });
    await store.put(key, complete, 'application/json');
    const replacement = Buffer.from(
      JSON.stringify({ chunk: 4, page: 0, done: false, note: 'y'.repeat(400_000) }),
    );
    await abortedPut(s3.endpoint, key, replacement);
    const read = await store.getText(key);
    expect(read.length).toBe(complete.length);
    expect(JSON.parse(read)).toMatchObject({ chunk: 3, page: 7 });
  });

  it('shows no object for a first upload that never completed, and lists none', async () => {
    const key = 'runs/r1/checkpoints/Segment.json';
    await abortedPut(s3.endpoint, key, Buffer.from(JSON.stringify({ rows: 'z'.repeat(400_000) })));
    expect(await store.exists(key)).toBe(false);
    const listed: string[] = [];
    for await (const object of store.list('runs/r1/')) listed.push(object.key);
    expect(listed).toEqual(['runs/r1/reconcile/read-back.json']);
    // Nothing half-written is left in the bucket's directory either.
    const files = readdirSync(join(dir, localBucketNames.work), { recursive: true, encoding: 'utf8' });
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
