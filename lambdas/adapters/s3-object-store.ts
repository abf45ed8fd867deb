import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AppError, NotFoundError, TransientError } from '../ports/errors.ts';
import type { ObjectStore, StoredObject } from '../ports/object-store.ts';
import { withoutSdkLogging } from './sdk-client.ts';

/** S3's minimum part size for every part but the last; bodies smaller than this go up in one PUT. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;

/** Options for {@link createS3Client}: an endpoint for the embedded server, nothing for AWS. */
export interface S3ClientOptions {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * One S3 client configuration for both runtimes. Path-style addressing and checksums only "when
 * required" are what the embedded server understands; AWS accepts both, so the code path is the same.
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const config: S3ClientConfig = {
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: options.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  return withoutSdkLogging(new S3Client(config));
}

/** True when the SDK error means "no such key/bucket". */
function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    error.name === 'NoSuchKey' || error.name === 'NotFound' || error.name === 'NoSuchBucket' || status === 404
  );
}

/** Maps SDK failures onto Ferry's error families so ASL Retry/Catch can match on the name. */
function translate(error: unknown, operation: string, bucket: string, key: string): Error {
  if (error instanceof AppError) return error;
  if (isNotFound(error))
    return new NotFoundError(`object ${key} not found in bucket ${bucket}`, { cause: error });
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = error instanceof Error ? error.name : 'unknown';
  const message = `S3 ${operation} failed for ${key} in bucket ${bucket} (${name})`;
  if (
    status === undefined ||
    status >= 500 ||
    status === 429 ||
    name === 'SlowDown' ||
    name === 'RequestTimeout'
  ) {
    return new TransientError(message, { cause: error });
  }
  return new AppError(message, { cause: error });
}

/**
 * The ObjectStore port on S3 (AWS, or the embedded server locally). Listing pages with ListObjects
 * (v1) and `Marker`: for flat listings it is equivalent to ListObjectsV2 on AWS, and it avoids the
 * embedded server's DES-encrypted continuation tokens, which Node 24's OpenSSL 3 rejects unless the
 * process was started with `--openssl-legacy-provider` — so no user ever has to set NODE_OPTIONS.
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #partBytes: number;
  readonly #pageSize: number;
  readonly #tagsFor: (key: string) => Readonly<Record<string, string>> | undefined;

  constructor(
    client: S3Client,
    bucket: string,
    options: {
      partBytes?: number;
      pageSize?: number;
      /** Object tags by key (lifecycle rules match tags where a prefix cannot express the key). */
      tagsFor?: (key: string) => Readonly<Record<string, string>> | undefined;
    } = {},
  ) {
    this.#client = client;
    this.bucket = bucket;
    this.#tagsFor = options.tagsFor ?? (() => undefined);
    this.#partBytes = Math.max(MIN_PART_BYTES, options.partBytes ?? DEFAULT_PART_BYTES);
    this.#pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
  }

  /** The URL-encoded `Tagging` header for a key, or undefined when it carries no tags. */
  #tagging(key: string): string | undefined {
    const tags = this.#tagsFor(key);
    return tags === undefined ? undefined : new URLSearchParams(tags).toString();
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
          ContentType: contentType,
          Tagging: this.#tagging(key),
        }),
      );
    } catch (error) {
      throw translate(error, 'put', this.bucket, key);
    }
  }

  /**
   * Streams a body of unknown length: buffers one part at a time (constant memory), sends a single
   * PUT when the whole body fits in one part, otherwise a multipart upload that is aborted on failure
   * so no orphaned parts keep costing storage.
   */
  async putStream(key: string, body: Readable, contentType?: string): Promise<void> {
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flushPart = async (chunk: Buffer): Promise<void> => {
      if (uploadId === undefined) {
        const created = await this.#client.send(
          new CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            ContentType: contentType,
            Tagging: this.#tagging(key),
          }),
        );
        if (!created.UploadId) throw new TransientError(`S3 did not start an upload for ${key}`);
        uploadId = created.UploadId;
      }
      const partNumber = parts.length + 1;
      const sent = await this.#client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: chunk,
          ContentLength: chunk.byteLength,
        }),
      );
      parts.push({ ETag: sent.ETag ?? '', PartNumber: partNumber });
    };
    try {
      for await (const piece of body) {
        const buffer =
          typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece as Uint8Array);
        pending.push(buffer);
        pendingBytes += buffer.byteLength;
        while (pendingBytes >= this.#partBytes) {
          const joined = Buffer.concat(pending);
          await flushPart(joined.subarray(0, this.#partBytes));
          const rest = joined.subarray(this.#partBytes);
          pending = rest.byteLength > 0 ? [rest] : [];
          pendingBytes = rest.byteLength;
        }
      }
      const last = Buffer.concat(pending);
      if (uploadId === undefined) {
        await this.put(key, last, contentType);
        return;
      }
      if (last.byteLength > 0) await flushPart(last);
      await this.#client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      if (uploadId !== undefined) {
        await this.#client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
      }
      throw translate(error, 'putStream', this.bucket, key);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) return new Uint8Array();
      return await response.Body.transformToByteArray();
    } catch (error) {
      throw translate(error, 'get', this.bucket, key);
    }
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await this.get(key)).toString('utf8');
  }

  async getStream(key: string): Promise<Readable> {
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!response.Body) return Readable.from([]);
      return response.Body as Readable;
    } catch (error) {
      throw translate(error, 'getStream', this.bucket, key);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    let marker: string | undefined;
    for (;;) {
      let page: ListObjectsCommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            Marker: marker,
            MaxKeys: this.#pageSize,
          }),
        );
      } catch (error) {
        throw translate(error, 'list', this.bucket, prefix);
      }
      const contents = page.Contents ?? [];
      for (const object of contents) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      const lastKey = contents.at(-1)?.Key;
      if (!page.IsTruncated || lastKey === undefined) return;
      marker = lastKey;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw translate(error, 'exists', this.bucket, key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw translate(error, 'delete', this.bucket, key);
    }
  }
}
