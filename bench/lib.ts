/**
 * Shared helpers for benchmarks: a file-system ObjectStore (so the data being moved is on disk and
 * peak RSS measures the code, not the data), a synthetic export generator, and an RSS sampler.
 */
import { appendFileSync, createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../lambdas/core/errors.ts';
import type { ObjectStore, StoredObject } from '../lambdas/ports/object-store.ts';
import { type Metric, parseMetric, ratioOf } from './report.ts';

/** One bucket as a directory: key `a/b.csv` is the file `<root>/a/b.csv`. */
export class FsObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly root: string;

  constructor(root: string, bucket = 'fs') {
    this.root = root;
    this.bucket = bucket;
  }

  #path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
  }

  async putStream(key: string, body: Readable): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    await pipeline(body, createWriteStream(path));
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.#path(key));
    } catch {
      throw new NotFoundError(`object ${key} not found in ${this.bucket}`);
    }
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await this.get(key)).toString('utf8');
  }

  async getStream(key: string): Promise<Readable> {
    const path = this.#path(key);
    if (!(await this.exists(key))) throw new NotFoundError(`object ${key} not found in ${this.bucket}`);
    return createReadStream(path, { highWaterMark: 64 * 1024 });
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const found: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else {
          const key = relative(this.root, path).split(sep).join('/');
          if (key.startsWith(prefix)) found.push({ key, size: (await stat(path)).size });
        }
      }
    };
    await walk(this.root);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.#path(key))).isFile();
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}

/** Deterministic PRNG (mulberry32) so every run generates the same synthetic file. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ava', 'Noah', 'Mia', 'Liam', 'Zoë', 'Eli', 'Renée', 'Omar', 'Ines', 'Kai'];
const LAST = [
  'Stone',
  'Rivera',
  'Okafor',
  'Nguyen',
  'Müller',
  'Smith',
  'Kowalski',
  "O'Neil",
  'Haddad',
  'Lund',
];
const CITIES = ['Springfield', 'Riverton', 'Lakeside', 'Fairview', 'Maple Hill'];

/**
 * Writes a synthetic practice-style patient export (12 columns, CRLF, some quoted notes with
 * commas, escaped quotes and line breaks). Entirely made up: no real person's data.
 */
export async function generatePatientsCsv(path: string, rows: number, seed = 42): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  await write('PatientID,FirstName,LastName,DOB,Gender,Email,CellPhone,Address1,City,State,Zip,Notes\r\n');
  let batch = '';
  for (let i = 1; i <= rows; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const roll = random();
    const notes =
      roll < 0.1
        ? `"Prefers mornings, ${pick(CITIES)} office"`
        : roll < 0.13
          ? `"Called back; said ""later"".\r\nSecond line of note"`
          : roll < 0.5
            ? 'Recall due'
            : '';
    const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
    const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
    batch +=
      `${100000 + i},${first},${last},${1940 + Math.floor(random() * 80)}-${month}-${day},${random() < 0.5 ? 'F' : 'M'},` +
      `patient${i}@example.test,(555) 01${String(i % 100).padStart(2, '0')}-${String(i % 10000).padStart(4, '0')},` +
      `${1 + Math.floor(random() * 9999)} ${pick(['Oak', 'Elm', 'Pine', 'Cedar'])} St,${pick(CITIES)},` +
      `${pick(['NY', 'CA', 'TX', 'OH'])},${String(Math.floor(random() * 99999)).padStart(5, '0')},${notes}\r\n`;
    if (i % 1000 === 0) {
      await write(batch);
      batch = '';
    }
  }
  if (batch) await write(batch);
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return (await stat(path)).size;
}

/**
 * Runs `work` while sampling RSS every 25 ms; returns its result, wall time, CPU time of this process
 * (the fairer number on a shared, loaded machine) and the peak RSS seen.
 */
export async function measure<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number; cpuMs: number; peakRssMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    const used = process.cpuUsage(cpu);
    return {
      result,
      ms: performance.now() - started,
      cpuMs: (used.user + used.system) / 1000,
      peakRssMb: peak / 1024 / 1024,
    };
  } finally {
    clearInterval(timer);
  }
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** `npm run bench -- --quick` sets this for every bench it starts: a small scale for a smoke run. */
export const QUICK_ENV = 'FERRY_BENCH_QUICK';
/** Where bench/run.ts wants a bench's metrics, one JSON line each (unset when a bench runs alone). */
export const METRICS_FILE_ENV = 'FERRY_BENCH_METRICS_FILE';

export function isQuick(): boolean {
  return process.env[QUICK_ENV] === '1';
}

/**
 * A bench's size: the command-line argument when given, else the full size, or the quick one under
 * `--quick`. Figures at the quick size say the bench works, not how fast Ferry is.
 */
export function sized(arg: string | undefined, full: number, quick: number): number {
  if (arg !== undefined && arg !== '') return Number(arg);
  return isQuick() ? quick : full;
}

/**
 * Reports one figure: a line on stdout for whoever watches, and — under bench/run.ts — one JSON
 * line in its metrics file, from which it builds the table and `bench/results.json`.
 */
export function reportMetric(metric: Metric): void {
  const checked = parseMetric(metric);
  const ratio = ratioOf(checked);
  const goals = (checked.goals ?? [])
    .map((g) => `${g.on === 'ratio' ? 'ratio ' : ''}${g.op} ${g.target}`)
    .join(', ');
  console.log(
    `METRIC ${checked.id}: ${fmt(checked.value, checked.value < 10 ? 3 : 0)} ${checked.unit}` +
      (checked.baseline ? ` (${checked.baseline.label} ${fmt(checked.baseline.value)})` : '') +
      (ratio === null ? '' : `, ratio ${fmt(ratio, 3)}`) +
      (goals ? `, goal ${goals}` : ''),
  );
  const file = process.env[METRICS_FILE_ENV];
  if (file) appendFileSync(file, `${JSON.stringify(checked)}\n`);
}
