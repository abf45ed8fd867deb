/** Tiny entry used by the e2e test: `ferry sandbox` without the rest of the CLI. */
import { Command } from 'commander';
import { registerSandboxCommand } from '../../../lib/cli/sandbox-command.ts';

const program = new Command('ferry');
registerSandboxCommand(program);
await program.parseAsync(process.argv);
