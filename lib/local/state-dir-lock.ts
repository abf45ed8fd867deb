import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../lambdas/core/errors.ts';

/**
 * Who holds a state dir: the one ferry process whose embedded S3 and DynamoDB servers own its files
 * (LevelDB and s3rver cannot be opened by two processes at once). Ids, paths and endpoints only.
 */
export const StateDirHolderSchema = z.object({
  pid: z.number().int(),
  command: z.string(),
  startedAt: z.string(),
  /** The run it is executing, once known (`ferry run`, `ferry resume`, `ferry rollback`). */
  runId: z.string().optional(),
  /** That run's drop folder (`drop/<name>-<hash>/`) and the local export folder it mirrors. */
  folder: z.string().optional(),
  exportDir: z.string().optional(),
  /** The embedded servers, so a short read (`ferry status`) can attach instead of starting its own. */
  s3Endpoint: z.string().optional(),
  dynamoEndpoint: z.string().optional(),
});
export type StateDirHolder = z.infer<typeof StateDirHolderSchema>;

/**
 * The state dir is held by another live ferry process. For a run on the same drop folder this is the
 * local run lock: the message names the folder and the holding run. Exit 2 (nothing was written).
 */
export class StateDirInUseError extends ConfigError {}

export interface StateDirLease {
  readonly path: string;
  /** Records more about what the holder is doing (run id, folder, endpoints). */
  update(info: Partial<Omit<StateDirHolder, 'pid' | 'startedAt' | 'command'>>): void;
  /** Removes the lock file if this process still holds it; idempotent. */
  release(): void;
}

const LOCK_FILE = 'in-use.json';

function lockPath(stateDir: string): string {
  return join(resolve(stateDir), LOCK_FILE);
}

/** Whether a process with this pid is alive (a SIGKILLed holder leaves its file behind, its pid gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): StateDirHolder | undefined {
  try {
    const parsed = StateDirHolderSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The live process holding the state dir, if any (a stale file of a dead process counts as none). */
export function stateDirHolder(stateDir: string): StateDirHolder | undefined {
  const holder = readHolder(lockPath(stateDir));
  return holder !== undefined && holder.pid !== process.pid && alive(holder.pid) ? holder : undefined;
}

/** What the refused command wanted: the drop folder of `ferry run <dir>`, or nothing in particular. */
export interface StateDirIntent {
  readonly command: string;
  readonly folder?: string;
  /** The run `ferry resume <runId>` wants to continue. */
  readonly runId?: string;
}

/** The refusal in one sentence: the run lock when both want the same folder, the state dir otherwise. */
function refusal(stateDir: string, holder: StateDirHolder, intent: StateDirIntent): StateDirInUseError {
  const run = holder.runId === undefined ? `a ferry ${holder.command}` : `run ${holder.runId}`;
  const by = `${run} (ferry process ${holder.pid}, started ${holder.startedAt})`;
  const sameRun = intent.runId !== undefined && intent.runId === holder.runId;
  if (sameRun || (intent.folder !== undefined && intent.folder === holder.folder)) {
    return new StateDirInUseError(
      `drop folder ${holder.folder ?? intent.folder ?? '?'}${holder.exportDir === undefined ? '' : ` (${holder.exportDir})`} is locked by ${by} ` +
        `until it finishes: wait for it (ferry status ${holder.runId ?? ''} --state-dir ${stateDir} follows it), ` +
        `or resume it (ferry resume) once that process is gone`,
    );
  }
  const what = holder.folder === undefined ? '' : ` on drop folder ${holder.folder}`;
  return new StateDirInUseError(
    `state dir ${stateDir} is in use by ${by}${what}: give this ${intent.command} its own --state-dir ` +
      `to run beside it, or wait until it finishes`,
  );
}

/**
 * Takes the state dir for this process (an exclusive create of `<stateDir>/in-use.json`), taking over
 * a file left by a process that no longer exists. Throws {@link StateDirInUseError} while another
 * live process holds it.
 */
export function acquireStateDir(stateDir: string, intent: StateDirIntent): StateDirLease {
  const dir = resolve(stateDir);
  mkdirSync(dir, { recursive: true });
  const path = lockPath(dir);
  let holder: StateDirHolder = {
    pid: process.pid,
    command: intent.command,
    startedAt: new Date().toISOString(),
    ...(intent.folder === undefined ? {} : { folder: intent.folder }),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(holder), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
      const current = readHolder(path);
      if (current !== undefined && current.pid !== process.pid && alive(current.pid))
        throw refusal(stateDir, current, intent);
      // A stale (or half-written) file: only remove it if it is still the one just read.
      const again = readHolder(path);
      if (JSON.stringify(again) === JSON.stringify(current)) {
        try {
          unlinkSync(path);
        } catch {
          // another process removed it first; try the exclusive create again
        }
      }
    }
  }
  let released = false;
  return {
    path,
    update(info) {
      if (released) return;
      holder = { ...holder, ...info };
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(holder));
      renameSync(temporary, path);
    },
    release() {
      if (released) return;
      released = true;
      if (readHolder(path)?.pid === process.pid) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
}
