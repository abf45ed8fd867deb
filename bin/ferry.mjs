#!/usr/bin/env node
// `npx ferry`: npm puts node_modules/.bin (Node 24 from the `node` package) first on PATH.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `ferry: Node ${process.versions.node} cannot run TypeScript; run it through npx or npm scripts (Node 24).\n`,
  );
  process.exit(2);
}
const { main } = await import('./ferry.ts');
process.exitCode = await main();
