import type { ObjectStore } from '../../ports/object-store.ts';

import type { LoadManifestItem, LoadPhase } from '../load/format.ts';
import { loadChunkKey } from '../run-layout.ts';

/**
 * Buffers one entity's mapped lines and writes a chunk of at most `chunkSize` lines per put, so
 * Prepare holds one chunk per entity and wave at a time. Chunk numbers run on across waves; each
 * written chunk becomes a load-manifest item of its wave.
 */
export class LoadChunkWriter {
  readonly #store: ObjectStore;
  readonly #runId: string;
  readonly #phase: LoadPhase;
  readonly #entity: string;
  readonly #chunkSize: number;
  readonly #buffers = new Map<number, string[]>();
  #next = 1;
  /** Written chunks with the wave they belong to. */
  readonly items: Array<{ wave: number; item: LoadManifestItem }> = [];

  constructor(store: ObjectStore, runId: string, phase: LoadPhase, entity: string, chunkSize: number) {
    this.#store = store;
    this.#runId = runId;
    this.#phase = phase;
    this.#entity = entity;
    this.#chunkSize = chunkSize;
  }

  /** Adds one serialized line to a wave; writes the wave's chunk when it is full. */
  async add(wave: number, line: string): Promise<void> {
    let buffer = this.#buffers.get(wave);
    if (buffer === undefined) {
      buffer = [];
      this.#buffers.set(wave, buffer);
    }
    buffer.push(line);
    if (buffer.length >= this.#chunkSize) await this.#flush(wave);
  }

  async finish(): Promise<void> {
    for (const wave of [...this.#buffers.keys()].sort((a, b) => a - b)) await this.#flush(wave);
  }

  async #flush(wave: number): Promise<void> {
    const lines = this.#buffers.get(wave);
    if (lines === undefined || lines.length === 0) return;
    this.#buffers.set(wave, []);
    const key = loadChunkKey(this.#runId, this.#phase, this.#entity, this.#next++);
    await this.#store.put(key, `${lines.join('\n')}\n`, 'application/x-ndjson');
    this.items.push({
      wave,
      item: { runId: this.#runId, phase: this.#phase, entity: this.#entity, key, records: lines.length },
    });
  }
}
