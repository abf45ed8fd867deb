/**
 * Runs every `bench/*.bench.ts` in turn, each in its own process on the Node 24 from node_modules
 * (the system `node` may be older), so one bench's memory never shows in another's numbers. Each
 * bench's output streams through as it runs; at the end a summary lists every bench's time and the
 * ratios it printed, so one screen answers "are we within the targets?".
 * Benchmarks print numbers; a non-zero exit here means a bench crashed, not that it was slow.
 *
 *   npm run bench                  every bench
 *   npm run bench -- migrate seg   only the benches whose file name contains one of the words
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const benchDir = import.meta.dirname;
const repo = join(benchDir, '..');
const localNode = join(repo, 'node_modules', 'node', 'bin', 'node');
const node = existsSync(localNode) ? localNode : process.execPath;
const only = process.argv.slice(2);
const available = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .sort();
const benches = available.filter((name) => only.length === 0 || only.some((filter) => name.includes(filter)));

/** One ratio a bench reported, for the summary. */
export interface ReportedRatio {
  readonly name: string;
  readonly value: string;
  readonly target?: string;
}

const TABLE_BORDER = /^[┌├└]/;

/**
 * The ratios in a bench's output: `RATIO <name> <value> [target]` lines (the structured form),
 * console.table columns whose header mentions "ratio" (one entry per row), and any other line that
 * states a ratio in prose (kept verbatim, trimmed).
 */
export function ratiosIn(output: string): ReportedRatio[] {
  const found: ReportedRatio[] = [];
  let ratioColumns: Array<{ index: number; name: string }> = [];
  let firstColumn = 0;
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    const structured = /^RATIO\s+(\S+)\s+(\S+)(?:\s+(\S+))?$/.exec(line);
    if (structured) {
      found.push({
        name: structured[1] ?? '',
        value: structured[2] ?? '',
        ...(structured[3] ? { target: structured[3] } : {}),
      });
      continue;
    }
    if (TABLE_BORDER.test(line)) continue;
    if (line.startsWith('│')) {
      const cells = line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim());
      if (cells[0] === '(index)') {
        ratioColumns = cells
          .map((name, index) => ({ index, name }))
          .filter((column) => /ratio/i.test(column.name));
        firstColumn = 1;
        continue;
      }
      for (const column of ratioColumns) {
        const label = cells.slice(firstColumn, column.index).filter(Boolean).slice(0, 3).join(' ');
        found.push({ name: `${column.name} (${label})`, value: cells[column.index] ?? '' });
      }
      continue;
    }
    ratioColumns = [];
    if (/\bratio/i.test(line) && !line.startsWith('*') && !line.startsWith('//'))
      found.push({ name: 'line', value: line });
  }
  return found;
}

function runOne(name: string): Promise<{ code: number | null; output: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(node, [join(benchDir, name)], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), output, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

if (import.meta.main) {
  if (benches.length === 0) {
    console.error(`no benchmark matches ${only.join(', ')}; available: ${available.join(', ')}`);
    process.exit(2);
  }
  const results: Array<{ name: string; code: number | null; seconds: number; ratios: ReportedRatio[] }> = [];
  for (const name of benches) {
    console.log(`\n▶ ${name}`);
    const run = await runOne(name);
    console.log(`  (${name} finished in ${run.seconds.toFixed(1)} s, exit ${run.code})`);
    results.push({ name, code: run.code, seconds: run.seconds, ratios: ratiosIn(run.output) });
  }

  console.log('\n═════ benchmark summary ═════');
  for (const result of results) {
    const state = result.code === 0 ? 'ok' : `CRASHED (exit ${result.code})`;
    console.log(`${result.name.padEnd(26)} ${`${result.seconds.toFixed(1)} s`.padStart(9)}  ${state}`);
    for (const ratio of result.ratios) {
      if (ratio.name === 'line') console.log(`    ${ratio.value}`);
      else
        console.log(
          `    ${ratio.name.padEnd(40)} ${ratio.value}${ratio.target ? `  (target ${ratio.target})` : ''}`,
        );
    }
  }
  const failed = results.filter((result) => result.code !== 0).map((result) => result.name);
  if (failed.length > 0) {
    console.error(`\n${failed.length} benchmark(s) crashed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}
