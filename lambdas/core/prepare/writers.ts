import type { ObjectStore } from '../../ports/object-store.ts';

import type { LoadManifestItem, LoadPhase } from '../load/format.ts';
import type { NdjsonSink } from '../ndjson-sink.ts';
import { loadChunkKey } from '../run-layout.ts';
import type { SampleCandidatesLine } from '../sample/candidates.ts';

/**
 * Buffers one entity's mapped lines and writes a chunk of at most `chunkSize` lines per put, so
 * Prepare holds one chunk per entity and wave at a time. Chunk numbers run on across waves; each
 * written chunk becomes a load-manifest item of its wave, and its records' ids and references one
 * line of the sample candidates (`candidates`).
 */
export class LoadChunkWriter {
  readonly #store: ObjectStore;
  readonly #runId: string;
  readonly #phase: LoadPhase;
  readonly #entity: string;
  readonly #chunkSize: number;
  readonly #candidates: NdjsonSink;
  readonly #buffers = new Map<number, { lines: string[]; records: SampleCandidatesLine['records'] }>();
  #next = 1;
  /** Written chunks with the wave they belong to. */
  readonly items: Array<{ wave: number; item: LoadManifestItem }> = [];

  constructor(
    store: ObjectStore,
    candidates: NdjsonSink,
    chunk: { runId: string; phase: LoadPhase; entity: string; chunkSize: number },
  ) {
    this.#store = store;
    this.#candidates = candidates;
    this.#runId = chunk.runId;
    this.#phase = chunk.phase;
    this.#entity = chunk.entity;
    this.#chunkSize = chunk.chunkSize;
  }

  /**
   * Adds one serialized line to a wave, with the record's id and the ids it references; writes the
   * wave's chunk when it is full.
   */
  async add(wave: number, line: string, id: string, refs: string[]): Promise<void> {
    let buffer = this.#buffers.get(wave);
    if (buffer === undefined) {
      buffer = { lines: [], records: [] };
      this.#buffers.set(wave, buffer);
    }
    buffer.lines.push(line);
    buffer.records.push([id, refs]);
    if (buffer.lines.length >= this.#chunkSize) await this.#flush(wave);
  }

  async finish(): Promise<void> {
    for (const wave of [...this.#buffers.keys()].sort((a, b) => a - b)) await this.#flush(wave);
  }

  async #flush(wave: number): Promise<void> {
    const buffer = this.#buffers.get(wave);
    if (buffer === undefined || buffer.lines.length === 0) return;
    this.#buffers.set(wave, { lines: [], records: [] });
    const key = loadChunkKey(this.#runId, this.#phase, this.#entity, this.#next++);
    await this.#store.put(key, `${buffer.lines.join('\n')}\n`, 'application/x-ndjson');
    const candidates: SampleCandidatesLine = { chunk: key, records: buffer.records };
    this.#candidates.write(candidates);
    await this.#candidates.drained();
    this.items.push({
      wave,
      item: {
        runId: this.#runId,
        phase: this.#phase,
        entity: this.#entity,
        key,
        records: buffer.lines.length,
      },
    });
  }
}
