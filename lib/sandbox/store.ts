import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { FieldMeta, ObjectMeta } from './model.ts';

/** A stored record: its JSON document plus the columns the store indexes. */
export interface StoredRecord {
  readonly id: string;
  readonly data: Record<string, unknown>;
  readonly deletedAt: string | null;
}

/** An uploaded file kept so tests can read it back and hash it. */
export interface StoredFile {
  readonly path: string;
  readonly id: string;
  readonly name: string;
  readonly mimeType: string;
  readonly size: number;
  readonly sha256: string;
  readonly createdAt: string;
}

/** A reference from one record's join column to another record (for ON DELETE handling). */
export interface RecordRef {
  readonly sourceObject: string;
  readonly sourceId: string;
  readonly field: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fields (id TEXT PRIMARY KEY, object_id TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  object TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, deleted_at TEXT, seq INTEGER NOT NULL,
  PRIMARY KEY (object, id)
);
CREATE TABLE IF NOT EXISTS uniques (
  object TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (object, key, value)
);
CREATE INDEX IF NOT EXISTS uniques_by_id ON uniques (object, id);
CREATE TABLE IF NOT EXISTS refs (
  target_object TEXT NOT NULL, target_id TEXT NOT NULL, source_object TEXT NOT NULL, source_id TEXT NOT NULL,
  field TEXT NOT NULL, PRIMARY KEY (target_object, target_id, source_object, source_id, field)
);
CREATE INDEX IF NOT EXISTS refs_by_source ON refs (source_object, source_id);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
  sha256 TEXT NOT NULL, created_at TEXT NOT NULL, bytes BLOB NOT NULL
);
`;

/**
 * The sandbox's persistence on Node's built-in SQLite: records as JSONB documents (no re-parse
 * per filtered row) keyed by
 * (object, id), unique keys and join-column references in their own indexed tables so every write
 * is O(batch) whatever the table size. Every statement is prepared once.
 */
export class SandboxStore {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #seq = 0;

  constructor(dataDir: string | undefined) {
    let location = ':memory:';
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true });
      location = join(dataDir, 'sandbox.db');
    }
    this.db = new DatabaseSync(location);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;');
    this.db.exec(SCHEMA);
    const row = this.db.prepare('SELECT max(seq) AS seq FROM records').get() as
      | { seq: number | null }
      | undefined;
    this.#seq = row?.seq ?? 0;
  }

  /** The last insertion sequence number (new records' default position follows it). */
  seqPeek(): number {
    return this.#seq;
  }

  /** A cached prepared statement. */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one transaction: a batch is all-or-nothing, as in Twenty. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }

  getSetting(key: string): string | undefined {
    const row = this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  setSetting(key: string, value: string): void {
    this.stmt(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  // ----- metadata -----

  loadObjects(): ObjectMeta[] {
    return (this.stmt('SELECT json FROM objects').all() as Array<{ json: string }>).map((r) =>
      JSON.parse(r.json),
    );
  }

  loadFields(): FieldMeta[] {
    return (this.stmt('SELECT json FROM fields').all() as Array<{ json: string }>).map((r) =>
      JSON.parse(r.json),
    );
  }

  putObject(object: ObjectMeta): void {
    this.stmt(
      'INSERT INTO objects (id, json) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json',
    ).run(object.id, JSON.stringify(object));
  }

  deleteObject(id: string): void {
    this.stmt('DELETE FROM objects WHERE id = ?').run(id);
  }

  putField(field: FieldMeta): void {
    this.stmt(
      'INSERT INTO fields (id, object_id, json) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json',
    ).run(field.id, field.objectMetadataId, JSON.stringify(field));
  }

  deleteField(id: string): void {
    this.stmt('DELETE FROM fields WHERE id = ?').run(id);
  }

  // ----- records -----

  getRecord(object: string, id: string): StoredRecord | undefined {
    const row = this.stmt(
      'SELECT json(data) AS data, deleted_at FROM records WHERE object = ? AND id = ?',
    ).get(object, id) as { data: string; deleted_at: string | null } | undefined;
    if (!row) return undefined;
    return { id, data: JSON.parse(row.data), deletedAt: row.deleted_at };
  }

  exists(object: string, id: string): boolean {
    return this.stmt('SELECT 1 AS x FROM records WHERE object = ? AND id = ?').get(object, id) !== undefined;
  }

  insertRecord(object: string, data: Record<string, unknown>): void {
    this.#seq += 1;
    this.stmt('INSERT INTO records (object, id, data, deleted_at, seq) VALUES (?, ?, jsonb(?), ?, ?)').run(
      object,
      String(data.id),
      JSON.stringify(data),
      (data.deletedAt as string | null) ?? null,
      this.#seq,
    );
  }

  updateRecord(object: string, data: Record<string, unknown>): void {
    this.stmt('UPDATE records SET data = jsonb(?), deleted_at = ? WHERE object = ? AND id = ?').run(
      JSON.stringify(data),
      (data.deletedAt as string | null) ?? null,
      object,
      String(data.id),
    );
  }

  /** Removes a record and its unique keys and outgoing references. */
  destroyRecord(object: string, id: string): void {
    this.stmt('DELETE FROM records WHERE object = ? AND id = ?').run(object, id);
    this.stmt('DELETE FROM uniques WHERE object = ? AND id = ?').run(object, id);
    this.stmt('DELETE FROM refs WHERE source_object = ? AND source_id = ?').run(object, id);
  }

  /** Removes every record of an object (custom object deletion). */
  destroyObjectRecords(object: string): void {
    this.stmt('DELETE FROM records WHERE object = ?').run(object);
    this.stmt('DELETE FROM uniques WHERE object = ?').run(object);
    this.stmt('DELETE FROM refs WHERE source_object = ? OR target_object = ?').run(object, object);
  }

  countRecords(): Array<{ object: string; active: number; deleted: number }> {
    return this.stmt(
      'SELECT object, sum(deleted_at IS NULL) AS active, sum(deleted_at IS NOT NULL) AS deleted FROM records GROUP BY object',
    ).all() as Array<{ object: string; active: number; deleted: number }>;
  }

  allRecords(object: string): Array<Record<string, unknown>> {
    return (
      this.stmt('SELECT json(data) AS data FROM records WHERE object = ? ORDER BY seq').all(object) as Array<{
        data: string;
      }>
    ).map((r) => JSON.parse(r.data));
  }

  // ----- unique keys -----

  uniqueOwner(object: string, key: string, value: string): string | undefined {
    const row = this.stmt('SELECT id FROM uniques WHERE object = ? AND key = ? AND value = ?').get(
      object,
      key,
      value,
    ) as { id: string } | undefined;
    return row?.id;
  }

  /** Replaces a record's unique-key entries. */
  setUniques(object: string, id: string, entries: ReadonlyArray<readonly [string, string]>): void {
    this.stmt('DELETE FROM uniques WHERE object = ? AND id = ?').run(object, id);
    const insert = this.stmt('INSERT INTO uniques (object, key, value, id) VALUES (?, ?, ?, ?)');
    for (const [key, value] of entries) insert.run(object, key, value, id);
  }

  dropUniqueKey(object: string, key: string): void {
    this.stmt('DELETE FROM uniques WHERE object = ? AND key = ?').run(object, key);
  }

  // ----- references -----

  /** Replaces a record's outgoing references (join column → target record). */
  setRefs(
    object: string,
    id: string,
    refs: ReadonlyArray<{ field: string; targetObject: string; targetId: string }>,
  ): void {
    this.stmt('DELETE FROM refs WHERE source_object = ? AND source_id = ?').run(object, id);
    const insert = this.stmt(
      'INSERT OR IGNORE INTO refs (target_object, target_id, source_object, source_id, field) VALUES (?, ?, ?, ?, ?)',
    );
    for (const ref of refs) insert.run(ref.targetObject, ref.targetId, object, id, ref.field);
  }

  refsTo(targetObject: string, targetId: string): RecordRef[] {
    return (
      this.stmt(
        'SELECT source_object, source_id, field FROM refs WHERE target_object = ? AND target_id = ?',
      ).all(targetObject, targetId) as Array<{ source_object: string; source_id: string; field: string }>
    ).map((r) => ({ sourceObject: r.source_object, sourceId: r.source_id, field: r.field }));
  }

  dropRefsByField(sourceObject: string, field: string): void {
    this.stmt('DELETE FROM refs WHERE source_object = ? AND field = ?').run(sourceObject, field);
  }

  // ----- queries -----

  /** Runs a generated find-many query (the SQL is built from validated names only). */
  query(sql: string, params: SQLInputValue[]): Array<Record<string, unknown>> {
    return this.stmt(sql).all(...params) as Array<Record<string, unknown>>;
  }

  // ----- files -----

  putFile(file: StoredFile, bytes: Uint8Array): void {
    this.stmt(
      'INSERT OR REPLACE INTO files (path, id, name, mime, size, sha256, created_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(file.path, file.id, file.name, file.mimeType, file.size, file.sha256, file.createdAt, bytes);
  }

  getFile(path: string): { file: StoredFile; bytes: Uint8Array } | undefined {
    const row = this.stmt('SELECT * FROM files WHERE path = ? OR id = ?').get(path, path) as
      | Record<string, unknown>
      | undefined;
    if (!row) return undefined;
    return { file: toStoredFile(row), bytes: row.bytes as Uint8Array };
  }

  /** Removes a stored file by path or id (Twenty's FileDeletionJob after an attachment is destroyed). */
  deleteFile(pathOrId: string): void {
    this.stmt('DELETE FROM files WHERE path = ? OR id = ?').run(pathOrId, pathOrId);
  }

  listFiles(): StoredFile[] {
    return (
      this.stmt(
        'SELECT path, id, name, mime, size, sha256, created_at FROM files ORDER BY created_at, path',
      ).all() as Array<Record<string, unknown>>
    ).map(toStoredFile);
  }

  /** Empties everything (POST /__sandbox/reset). */
  wipe(): void {
    this.db.exec(
      'DELETE FROM settings; DELETE FROM objects; DELETE FROM fields; DELETE FROM records; DELETE FROM uniques; DELETE FROM refs; DELETE FROM files;',
    );
    this.#seq = 0;
  }
}

function toStoredFile(row: Record<string, unknown>): StoredFile {
  return {
    path: String(row.path),
    id: String(row.id),
    name: String(row.name),
    mimeType: String(row.mime),
    size: Number(row.size),
    sha256: String(row.sha256),
    createdAt: String(row.created_at),
  };
}
