import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../../lambdas/core/errors.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';

/**
 * The drop folder a local folder maps to: `drop/<basename>-<hash of the absolute path>/`. Stable,
 * so re-running the same folder reuses the same drop folder, and two folders that share a name
 * do not collide.
 */
export function dropFolderFor(dir: string): string {
  const absolute = resolve(dir);
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 8);
  const name = basename(absolute).replace(/[^A-Za-z0-9._-]+/g, '-') || 'export';
  return `drop/${name}-${hash}/`;
}

/** Checks a local export folder, naming it and the rule it breaks (exit 2 in the CLI). */
export async function assertExportFolder(dir: string): Promise<string> {
  const absolute = resolve(dir);
  const info = await stat(absolute).catch(() => undefined);
  if (!info) throw new ConfigError(`folder ${dir} does not exist`);
  if (!info.isDirectory())
    throw new ConfigError(`${dir} is not a folder: pass the folder that holds the export files`);
  return absolute;
}

/**
 * Every file under a folder, depth first in name order (absolute paths). Refuses symbolic links and
 * other special files (ConfigError naming the path), so nothing outside the folder is ever read.
 */
export async function* filesUnder(root: string, dir: string = root): AsyncIterable<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new ConfigError(`folder ${relative(process.cwd(), dir) || dir} cannot be read`, { cause: error });
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(root, path);
    else if (entry.isFile()) yield path;
    else {
      // A link may lead out of the folder (a file the practice never exported); skipping it would
      // lose the rows that name it without a word. Refuse, naming it.
      const kind = entry.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
      throw new ConfigError(
        `${relative(root, path).split(sep).join('/')} in the export folder is ${kind}: Ferry reads only regular files inside the folder (copy the file itself in, or remove it)`,
      );
    }
  }
}

/**
 * Mirrors a local export folder into the drop bucket (streamed, subfolders kept) and removes drop
 * objects whose local file is gone, so Inventory sees exactly the folder as it is now. `into` names
 * the drop folder (a delta's `drop/<folder>/delta-<n>/`); by default {@link dropFolderFor}.
 */
export async function uploadExportFolder(
  drop: ObjectStore,
  dir: string,
  into?: string,
): Promise<{ folder: string; files: number; bytes: number }> {
  const root = await assertExportFolder(dir);
  const folder = into ?? dropFolderFor(root);
  const uploaded = new Set<string>();
  let total = 0;
  for await (const path of filesUnder(root)) {
    const key = folder + relative(root, path).split(sep).join('/');
    const size = (await stat(path)).size;
    try {
      await drop.putStream(key, createReadStream(path));
    } catch (error) {
      throw new ConfigError(`file ${relative(process.cwd(), path)} could not be read or uploaded`, {
        cause: error,
      });
    }
    uploaded.add(key);
    total += size;
  }
  if (uploaded.size === 0)
    throw new ConfigError(`folder ${dir} has no files: pass the folder holding the export`);
  for await (const object of drop.list(folder)) {
    if (!uploaded.has(object.key)) await drop.delete(object.key);
  }
  return { folder, files: uploaded.size, bytes: total };
}
