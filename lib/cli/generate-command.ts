import { type Command, InvalidArgumentError, Option } from 'commander';
import { generateExport } from '../generate/index.ts';

function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function rate(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 0.08)
    throw new InvalidArgumentError('must be a number from 0 to 0.08');
  return n;
}

/**
 * `ferry generate`: writes a synthetic, deterministic export of a source system (plus
 * expected.json) for demos, tests and benchmarks, so nobody needs real patient data to try Ferry.
 */
export function registerGenerateCommand(program: Command): Command {
  return program
    .command('generate')
    .description(
      'write a synthetic APMS, Practice by Numbers or FHIR R4 bulk export (defects at --defects) and its expected.json',
    )
    .addOption(
      new Option('--source <system>', 'source system layout')
        .choices(['apms', 'pbn', 'fhir'])
        .makeOptionMandatory(),
    )
    .requiredOption('--patients <n>', 'number of patients', positiveInt)
    .option('--seed <seed>', 'seed: the same seed gives byte-identical files', '1')
    .option('--defects <rate>', 'rate per defect class (0 = clean export)', rate, 0)
    .option(
      '--since-of <dir>',
      "fhir: write the _since follow-up of the export in <dir> (changed, new and deleted resources; --patients new patients; --defects does not apply) for 'ferry delta'",
    )
    .requiredOption('--out <dir>', 'output folder (replaced)')
    .action(
      (opts: {
        source: 'apms' | 'pbn' | 'fhir';
        patients: number;
        seed: string;
        defects: number;
        out: string;
        sinceOf?: string;
      }) => {
        const started = performance.now();
        const expected = generateExport({
          source: opts.source,
          patients: opts.patients,
          seed: opts.seed,
          defects: opts.defects,
          outDir: opts.out,
          ...(opts.sinceOf === undefined ? {} : { sinceOf: opts.sinceOf }),
        });
        let rows = 0;
        let rejects = 0;
        for (const e of Object.values(expected.entities)) {
          rows += e.rows;
          for (const n of Object.values(e.rejects)) rejects += n ?? 0;
        }
        const files = Object.keys(expected.entities).length;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          `generated ${opts.source}: ${files} files, ${rows} rows (${rejects} with defects) in ${seconds}s → ${opts.out}\n`,
        );
      },
    );
}
