import { Readable } from 'node:stream';
import { NotFoundError } from '../ports/errors.ts';
import type { ObjectStore, StoredObject } from '../ports/object-store.ts';

/** In-memory ObjectStore for unit tests of the core. */
export class MemoryObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly objects = new Map<string, Uint8Array>();

  constructor(bucket = 'memory') {
    this.bucket = bucket;
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(key, typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));
  }

  async putStream(key: string, body: Readable): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of body)
      parts.push(typeof part === 'string' ? Buffer.from(part) : Buffer.from(part));
    this.objects.set(key, Buffer.concat(parts));
  }

  async get(key: string): Promise<Uint8Array> {
    const body = this.objects.get(key);
    if (!body) throw new NotFoundError(`object ${key} not found in ${this.bucket}`);
    return body;
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await this.get(key)).toString('utf8');
  }

  async getStream(key: string): Promise<Readable> {
    return Readable.from([Buffer.from(await this.get(key))]);
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) yield { key, size: this.objects.get(key)?.byteLength ?? 0 };
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
