import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { GENERATORS } from './generators.ts';

/** The corpus: one folder per case under test/fixtures/hostile/, each with a case.json. */
export const corpusRoot = join(import.meta.dirname, '..', '..', 'fixtures', 'hostile');

const CountsSchema = z.strictObject({
  rows: z.number().int().nonnegative(),
  loaded: z.number().int().nonnegative(),
  rejected: z.record(z.string(), z.number().int().positive()).default({}),
  skipped: z.record(z.string(), z.number().int().positive()).default({}),
});

/**
 * A case's expected outcome. `exit` is what `ferry run --yes` exits with; an error names its class
 * (`error.name`) and the fragments its one-line message must hold (file, line, key); a run that
 * completes lists every entity's counts and reject reasons, the rejects.csv lines it must hold, the
 * plan warnings it must raise, and values Twenty must (or must never) hold afterwards.
 */
export const CaseSchema = z.strictObject({
  /** What the case attacks and why the expected outcome is the right one. */
  about: z.string().min(20),
  /** `default`: test/fixtures/hostile/mapping.yaml; `none`: the auto-mapper; else a file of the case. */
  mapping: z.string().default('default'),
  /** A generator of generators.ts that writes (large) files into the export at test time. */
  generate: z.string().optional(),
  /** Run options (chunk size, sample size…) on top of the corpus defaults. */
  options: z.record(z.string(), z.unknown()).default({}),
  expect: z.strictObject({
    exit: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    error: z.strictObject({ name: z.string(), message: z.array(z.string()).min(1) }).optional(),
    entities: z.record(z.string(), CountsSchema).optional(),
    /** Plan warning codes the export must raise. */
    warnings: z.array(z.string()).default([]),
    /** Fragments each of which some line of rejects.csv must contain. */
    rejects: z.array(z.string()).default([]),
    /** Strings some record in Twenty must hold after the run (values decoded right). */
    twentyHas: z.array(z.string()).default([]),
    /** Strings no record or file in Twenty may hold (never migrated, never escaped the folder). */
    twentyLacks: z.array(z.string()).default([]),
  }),
});
export type HostileCase = z.infer<typeof CaseSchema> & { readonly name: string; readonly dir: string };

/** Every case of the corpus, in folder order. */
export function loadCorpus(): HostileCase[] {
  return readdirSync(corpusRoot)
    .filter((name) => existsSync(join(corpusRoot, name, 'case.json')))
    .sort()
    .map((name) => {
      const dir = join(corpusRoot, name);
      const parsed = CaseSchema.parse(JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')));
      return { ...parsed, name, dir };
    });
}

/**
 * The case's export in a fresh folder: the committed `export/` files, plus what its generator
 * writes (huge files are made at test time, never committed). The folder is named after the case,
 * so every case is its own source instance (its own deterministic ids).
 */
export function materialize(c: HostileCase, into: string): string {
  const dir = join(into, c.name);
  mkdirSync(dir, { recursive: true });
  const committed = join(c.dir, 'export');
  if (existsSync(committed)) cpSync(committed, dir, { recursive: true });
  if (c.generate !== undefined) {
    const generator = GENERATORS[c.generate];
    if (generator === undefined) throw new Error(`case ${c.name}: no generator ${c.generate}`);
    generator(dir);
  }
  return dir;
}

/** The mapping file a case runs with, or undefined for the auto-mapper. */
export function mappingOf(c: HostileCase): string | undefined {
  if (c.mapping === 'none') return undefined;
  if (c.mapping === 'default') return join(corpusRoot, 'mapping.yaml');
  return join(c.dir, c.mapping);
}

/** The files under `dir` (links too with `all`; else regular files under 4 MB, the ones scanned for values). */
function filesOf(dir: string, all = false): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesOf(path, all));
    else if (all || (entry.isFile() && statSync(path).size < 4 * 1024 * 1024)) out.push(path);
  }
  return out;
}

/**
 * The values of the export that must never reach a message, a log line or rejects.csv: every data
 * cell (after the first line of each CSV) of six characters or more that is not also a header
 * name, the name of a file in the folder, or an id-shaped token. Read as UTF-8, Latin-1 and UTF-16
 * (both byte orders), so whichever decoding is the right one counts; the wrong ones yield noise.
 */
export function sensitiveValues(exportDir: string): string[] {
  const values = new Set<string>();
  const names = new Set<string>();
  // File names are how Ferry points at a problem: a cell naming a file of the folder may be shown.
  for (const path of filesOf(exportDir, true)) {
    names.add(relative(exportDir, path).split(sep).join('/'));
    names.add(basename(path));
  }
  const files = filesOf(exportDir).filter((f) => /\.(csv|tsv|txt)$/i.test(f));
  for (const file of files) {
    const bytes = readFileSync(file);
    const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
    const decodings = [
      bytes.toString('utf8'),
      bytes.toString('latin1'),
      even.toString('utf16le'),
      Buffer.from(even).swap16().toString('utf16le'),
    ];
    for (const text of decodings) {
      const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
      for (const cell of (lines[0] ?? '').split(/[,;\t|]/)) names.add(cell.replaceAll('"', '').trim());
      for (const line of lines.slice(1)) {
        for (const raw of line.split(/[,;\t|]/)) {
          const cell = raw.replaceAll('"', '').trim();
          if (cell.length < 6 || cell.length > 200 || names.has(cell)) continue;
          if (/^[A-Za-z]{0,3}\d{1,6}$/.test(cell) || cell.includes('\uFFFD') || cell.includes('\0')) continue;
          values.add(cell);
        }
      }
    }
  }
  return [...values];
}
