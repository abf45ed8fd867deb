import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { CommanderError } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-object-store.ts';
import { ConfigError, ValidationError } from '../../lambdas/core/errors.ts';
import { integerOption, reportError } from '../../lib/cli/common.ts';
import { dropFolderFor, uploadExportFolder } from '../../lib/cli/drop-folder.ts';
import {
  ApprovalDeclinedError,
  ApprovalRequiredError,
  cliApprover,
  promptApprover,
} from '../../lib/local/approvals.ts';

const tiny = join(import.meta.dirname, '..', 'fixtures', 'exports', 'tiny');

describe('dropFolderFor', () => {
  it('maps a folder to a stable drop folder named after it', () => {
    expect(dropFolderFor('/data/exports/pbn')).toBe(dropFolderFor('/data/exports/pbn/'));
    expect(dropFolderFor('/data/exports/pbn')).toMatch(/^drop\/pbn-[0-9a-f]{8}\/$/);
  });

  it('keeps two folders with the same name apart', () => {
    expect(dropFolderFor('/a/pbn')).not.toBe(dropFolderFor('/b/pbn'));
  });
});

describe('uploadExportFolder', () => {
  it('mirrors the folder and removes drop objects whose file is gone', async () => {
    const drop = new MemoryObjectStore('ferry-drop');
    const folder = dropFolderFor(tiny);
    await drop.put(`${folder}old.csv`, 'a\n1\n');
    const result = await uploadExportFolder(drop, tiny);
    expect(result).toMatchObject({ folder, files: 2 });
    expect([...drop.objects.keys()].sort()).toEqual([`${folder}appointments.csv`, `${folder}patients.csv`]);
  });

  it('refuses a missing folder with a ConfigError naming it', async () => {
    await expect(uploadExportFolder(new MemoryObjectStore(), join(tiny, 'nope'))).rejects.toThrow(
      ConfigError,
    );
    await expect(uploadExportFolder(new MemoryObjectStore(), join(tiny, 'patients.csv'))).rejects.toThrow(
      /is not a folder/,
    );
  });

  it('refuses an empty folder with a ConfigError naming it, before any run starts', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ferry-empty-'));
    try {
      await expect(uploadExportFolder(new MemoryObjectStore(), empty)).rejects.toThrow(/has no files/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses a symbolic link in the folder, naming it, and uploads nothing it points at', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ferry-link-'));
    try {
      mkdirSync(join(root, 'export', 'docs'), { recursive: true });
      writeFileSync(join(root, 'export', 'patients.csv'), 'id\n1\n');
      writeFileSync(join(root, 'outside.txt'), 'not part of the export\n');
      symlinkSync(join(root, 'outside.txt'), join(root, 'export', 'docs', 'scan.pdf'));
      const drop = new MemoryObjectStore();
      await expect(uploadExportFolder(drop, join(root, 'export'))).rejects.toThrow(
        /^docs\/scan\.pdf in the export folder is a symbolic link/,
      );
      expect([...drop.objects.keys()].some((key) => key.endsWith('scan.pdf'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('reportError', () => {
  it('exits 2 for configuration errors and 1 for pipeline errors, in one line without a stack', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(reportError(new ConfigError('folder x does not exist'), false)).toBe(2);
      expect(reportError(new ValidationError('file a.csv line 3 has 4 cells, the header 5'), false)).toBe(2);
      expect(reportError(new TypeError('secret value inside'), false)).toBe(1);
      expect(reportError(new CommanderError(1, 'commander.unknownOption', 'x'), false)).toBe(2);
      expect(reportError(new CommanderError(0, 'commander.helpDisplayed', 'x'), false)).toBe(0);
      const written = write.mock.calls.map((call) => String(call[0]));
      expect(written).toEqual([
        'ferry: folder x does not exist.\n',
        'ferry: file a.csv line 3 has 4 cells, the header 5.\n',
        'ferry: unexpected TypeError (details withheld); re-run with --debug for details.\n',
      ]);
    } finally {
      write.mockRestore();
    }
  });
});

describe('integerOption', () => {
  it('accepts integers in range and names the option otherwise', () => {
    const parse = integerOption('--chunk-size', 1, 20_000);
    expect(parse('5000')).toBe(5000);
    expect(() => parse('0')).toThrow(/--chunk-size must be an integer from 1 to 20000/);
    expect(() => parse('2.5')).toThrow(ConfigError);
  });
});

describe('approvers', () => {
  const prompt = { runId: 'r1', stage: 'plan' as const, stateName: 'AwaitPlanApproval' };

  it('approves on y and declines on anything else at the prompt', async () => {
    const output = new PassThrough();
    await expect(promptApprover(Readable.from(['y\n']), output)(prompt)).resolves.toMatchObject({
      approved: true,
      stage: 'plan',
    });
    await expect(promptApprover(Readable.from(['\n']), output)(prompt)).rejects.toBeInstanceOf(
      ApprovalDeclinedError,
    );
    expect(output.read()?.toString()).toContain('Approve plan for run r1? [y/N]');
  });

  it('approves with --yes and refuses with guidance when there is no terminal', async () => {
    await expect(cliApprover({ yes: true })(prompt)).resolves.toMatchObject({ approved: true });
    const noTty = Object.assign(Readable.from([]), { isTTY: false });
    const refusal = cliApprover({ yes: false, input: noTty })(prompt);
    await expect(refusal).rejects.toBeInstanceOf(ApprovalRequiredError);
    await expect(cliApprover({ yes: false, input: noTty })(prompt)).rejects.toThrow(/--yes/);
  });
});
