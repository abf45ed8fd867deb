import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStateDir, StateDirInUseError, stateDirHolder } from '../../../lib/local/state-dir-lock.ts';

/** A pid no process has any more: a child that already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
  return child.pid ?? 999_999;
}

describe('state dir lock', () => {
  let dir: string;
  const lockFile = () => join(dir, 'in-use.json');
  const holdAs = (pid: number, extra: Record<string, unknown> = {}) =>
    writeFileSync(
      lockFile(),
      JSON.stringify({ pid, command: 'run', startedAt: '2026-12-07T10:00:00.000Z', ...extra }),
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a free state dir, records what the holder runs, and releases it', () => {
    const lease = acquireStateDir(dir, { command: 'run', folder: 'drop/a-1/' });
    lease.update({ runId: 'r1', s3Endpoint: 'http://127.0.0.1:1' });
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'run',
      folder: 'drop/a-1/',
      runId: 'r1',
      s3Endpoint: 'http://127.0.0.1:1',
    });
    lease.release();
    expect(existsSync(lockFile())).toBe(false);
    lease.release();
  });

  it('refuses a run of the folder a live process holds, naming the folder and the holding run', () => {
    holdAs(process.ppid, { runId: 'r-held', folder: 'drop/a-1/', exportDir: '/exports/a' });
    expect(stateDirHolder(dir)?.runId).toBe('r-held');
    const attempt = () => acquireStateDir(dir, { command: 'run', folder: 'drop/a-1/' });
    expect(attempt).toThrow(StateDirInUseError);
    expect(attempt).toThrow(
      /^drop folder drop\/a-1\/ \(\/exports\/a\) is locked by run r-held \(ferry process \d+/,
    );
    expect(() => acquireStateDir(dir, { command: 'resume', runId: 'r-held' })).toThrow(
      /is locked by run r-held/,
    );
  });

  it('refuses another folder or command on a held state dir, saying how to run beside it', () => {
    holdAs(process.ppid, { runId: 'r-held', folder: 'drop/a-1/' });
    expect(() => acquireStateDir(dir, { command: 'run', folder: 'drop/b-2/' })).toThrow(
      /state dir .* is in use by run r-held .* on drop folder drop\/a-1\/: give this run its own --state-dir/,
    );
    expect(() => acquireStateDir(dir, { command: 'rollback' })).toThrow(StateDirInUseError);
    // The holder's file is left as it was.
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.ppid);
  });

  it('takes over the file a killed process left behind', () => {
    const gone = deadPid();
    holdAs(gone, { runId: 'r-killed', folder: 'drop/a-1/' });
    expect(stateDirHolder(dir)).toBeUndefined();
    const lease = acquireStateDir(dir, { command: 'resume', runId: 'r-killed' });
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.pid);
    lease.release();
  });
});
