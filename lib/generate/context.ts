import type { CsvDialect, EntityLayout, EntityWriter } from './entity-writer.ts';
import type { Random } from './random.ts';
import type { WorkspaceMember } from './world.ts';

/** What a source layout's generator gets: the seeded stream, sizes, and file factories. */
export interface GenerateContext {
  readonly rng: Random;
  readonly patients: number;
  readonly dialect: CsvDialect;
  /** Opens the CSV for one entity; the caller closes every writer it opens. */
  open(layout: EntityLayout): EntityWriter;
  /** A named random stream of its own, so rows added in one place never shift another's values. */
  fork(name: string): Random;
  /** Writes a file under the export's documents/ folder. */
  writeDocument(name: string, body: Uint8Array): void;
  /** Workspace members the target should have for owner resolution (written to expected.json). */
  members: WorkspaceMember[];
  /** Extra facts for expected.json (owner matches, document counts). */
  facts: Record<string, number>;
}
