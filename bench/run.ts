/**
 * Runs every `bench/*.bench.ts` in turn, each in its own process on the Node 24 from node_modules
 * (the system `node` may be older), so one bench's memory never shows in another's numbers.
 * Benchmarks print numbers; a non-zero exit here means a bench crashed, not that it was slow.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const benchDir = import.meta.dirname;
const repo = join(benchDir, '..');
const localNode = join(repo, 'node_modules', 'node', 'bin', 'node');
const node = existsSync(localNode) ? localNode : process.execPath;
const only = process.argv.slice(2);
const benches = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only.length === 0 || only.some((filter) => name.includes(filter)))
  .sort();

const failed: string[] = [];
for (const name of benches) {
  console.log(`\n▶ ${name}`);
  const started = Date.now();
  const run = spawnSync(node, [join(benchDir, name)], { cwd: repo, stdio: 'inherit' });
  console.log(
    `  (${name} finished in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${run.status ?? run.signal})`,
  );
  if (run.status !== 0) failed.push(name);
}
if (failed.length > 0) {
  console.error(`\n${failed.length} benchmark(s) crashed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
