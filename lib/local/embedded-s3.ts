import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../lambdas/adapters/s3-object-store.ts';

/** Bucket names the local runtime uses; the stack's buckets get CloudFormation names in AWS. */
export const localBucketNames = { drop: 'ferry-drop', work: 'ferry-work' } as const;

/** The fixed credentials s3rver accepts (it does not check signatures with `allowMismatchedSignatures`). */
export const localS3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3Options {
  /** Directory the objects persist in; absent = a temporary directory removed on stop. */
  readonly dir?: string;
}

export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Closes the server (and removes the temporary directory when no `dir` was given). */
  stop(): Promise<void>;
}

/** The parts of s3rver's filesystem store that write an object's files. */
interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putContent(objectPath: string, content: Buffer | NodeJS.ReadableStream): Promise<[number, string]>;
  putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
  store?: S3rverStore;
}

/** Object metadata s3rver keeps besides `x-amz-meta-*` (its S3Object.ALLOWED_METADATA). */
const STORED_METADATA: ReadonlySet<string> = new Set([
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
]);

let temporaries = 0;

/** Writes a file whole or not at all: into a temporary name beside it, then renamed over it. */
async function replaceFile(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  temporaries += 1;
  // Not ending in `._S3rver_object`: listings never show a file being written or left by a crash.
  const temporary = `${path}.${process.pid}-${temporaries}.tmp`;
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Makes a PUT atomic and durable once answered, as S3's is: s3rver writes an object's content and
 * metadata files in place (and answers a buffered PUT before the bytes are written), so a process
 * killed mid-write (SIGKILL, a crash) left a truncated object that a resumed run then read — e.g. a
 * half-written read-back progress file. Each file is now written under a temporary name and renamed.
 */
function makePutsAtomic(store: S3rverStore): void {
  store.putContent = async (objectPath, content) => {
    const md5 = createHash('md5');
    let size = 0;
    await replaceFile(objectPath, (temporary) =>
      pipeline(
        Buffer.isBuffer(content) ? Readable.from([content]) : content,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            md5.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        createWriteStream(temporary),
      ),
    );
    return [size, md5.digest('hex')];
  };
  store.putMetadata = async (bucket, key, metadata, md5) => {
    const kept = Object.fromEntries(
      Object.entries(metadata).filter(
        ([name]) => STORED_METADATA.has(name) || name.startsWith('x-amz-meta-'),
      ),
    );
    if (md5 !== undefined)
      await replaceFile(store.getResourcePath(bucket, key, 'object.md5'), (temporary) =>
        writeFile(temporary, md5),
      );
    await replaceFile(store.getResourcePath(bucket, key, 'metadata.json'), (temporary) =>
      writeFile(temporary, JSON.stringify(kept, null, 2)),
    );
  };
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

/**
 * Starts @20minutes/s3rver on 127.0.0.1 with a random port and the `ferry-drop` and `ferry-work`
 * buckets, so the local runtime exercises the same S3 SDK code paths as AWS. s3rver keeps objects on
 * disk only, so the "in memory" mode is a throw-away temporary directory.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  const S3rver = require('@20minutes/s3rver') as S3rverConstructor;
  const temporary = options.dir === undefined;
  const directory = options.dir ?? mkdtempSync(join(tmpdir(), 'ferry-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: [{ name: localBucketNames.drop }, { name: localBucketNames.work }],
  });
  if (server.store !== undefined) makePutsAtomic(server.store);
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    if (temporary) rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.httpServer?.closeAllConnections?.();
      await server.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** An S3 client for the embedded server: path-style, fixed credentials, no AWS profile involved. */
export function localS3Client(endpoint: string): S3Client {
  return createS3Client({ endpoint, region: 'us-east-1', credentials: { ...localS3Credentials } });
}
