import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../lambdas/adapters/s3-object-store.ts';
import { NotFoundError } from '../../../lambdas/core/errors.ts';
import {
  type EmbeddedS3,
  localBucketNames,
  localS3Client,
  startEmbeddedS3,
} from '../../../lib/local/embedded-s3.ts';

describe('S3ObjectStore', () => {
  let s3: EmbeddedS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    s3 = await startEmbeddedS3();
    store = new S3ObjectStore(localS3Client(s3.endpoint), localBucketNames.work, { pageSize: 7 });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('round-trips text and bytes and reports existence', async () => {
    await store.put('runs/r1/plan.json', '{"version":1}', 'application/json');
    expect(await store.getText('runs/r1/plan.json')).toBe('{"version":1}');
    expect(await store.exists('runs/r1/plan.json')).toBe(true);
    expect(await store.exists('runs/r1/missing.json')).toBe(false);
    const stream = await store.getStream('runs/r1/plan.json');
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(Buffer.from(part));
    expect(Buffer.concat(parts).toString('utf8')).toBe('{"version":1}');
  });

  it('throws NotFoundError naming the key when an object is missing', async () => {
    await expect(store.get('runs/none/plan.json')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.getStream('runs/none/plan.json')).rejects.toThrow(/runs\/none\/plan\.json/);
  });

  it('lists flat in key order across pages when more objects than a page exist', async () => {
    const keys = Array.from(
      { length: 23 },
      (_, i) => `runs/r2/chunks/people/${String(i + 1).padStart(5, '0')}.ndjson`,
    );
    await Promise.all(keys.map((key) => store.put(key, 'x')));
    await store.put('runs/r2/manifest.json', '{}');
    await store.put('runs/r20/other.json', '{}');
    const listed: string[] = [];
    for await (const object of store.list('runs/r2/')) listed.push(object.key);
    expect(listed).toEqual([...keys, 'runs/r2/manifest.json'].sort());
  });

  it('uploads a stream larger than one part as a multipart upload', async () => {
    const part = Buffer.alloc(1024 * 1024, 97);
    const body = Readable.from(Array.from({ length: 6 }, () => part));
    const big = new S3ObjectStore(localS3Client(s3.endpoint), localBucketNames.work, {
      partBytes: 5 * 1024 * 1024,
    });
    await big.putStream('runs/r3/big.bin', body, 'application/octet-stream');
    const read = await big.get('runs/r3/big.bin');
    expect(read.byteLength).toBe(6 * 1024 * 1024);
    expect(Buffer.from(read).every((byte) => byte === 97)).toBe(true);
  });

  it('uploads a small stream with one put and deletes it', async () => {
    await store.putStream('runs/r4/small.ndjson', Readable.from(['{"a":1}\n', '{"a":2}\n']));
    expect(await store.getText('runs/r4/small.ndjson')).toBe('{"a":1}\n{"a":2}\n');
    await store.delete('runs/r4/small.ndjson');
    expect(await store.exists('runs/r4/small.ndjson')).toBe(false);
  });
});
