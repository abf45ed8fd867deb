import type { Readable } from 'node:stream';

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

/**
 * One bucket. The core reads exports from the drop store and writes run artefacts to the work
 * store through this port; S3 implements it in AWS, the embedded S3 server locally, memory in tests.
 */
export interface ObjectStore {
  readonly bucket: string;
  put(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  /** Streams a body of unknown length (multipart upload on S3). */
  putStream(key: string, body: Readable, contentType?: string): Promise<void>;
  /** Whole object; throws NotFoundError when missing. */
  get(key: string): Promise<Uint8Array>;
  getText(key: string): Promise<string>;
  /** Streaming read; throws NotFoundError when missing. */
  getStream(key: string): Promise<Readable>;
  /** Every object under the prefix, in key order, flat (no delimiter). */
  list(prefix: string): AsyncIterable<StoredObject>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}
