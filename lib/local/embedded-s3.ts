import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
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
