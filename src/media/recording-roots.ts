// Where recordings may be written (like Janus's `protected_folders`, but an allow-list): the
// configured recordings folder and any extra roots. A script's folder/filename is resolved
// against the first root; the result must stay inside a root lexically (no `..` or absolute
// escape) and physically (no symlinked directory leading out, no symlink as the file).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RecorderError, type RecordingPath } from './recorder';

/** A recording path outside every recording root. */
export class RecordingPathError extends RecorderError {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingPathError';
  }
}

function inside(child: string, root: string): boolean {
  const relative = path.relative(root, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The closest ancestor of `dir` (or `dir` itself) that exists. */
function deepestExisting(dir: string): string {
  let current = dir;
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

export class RecordingRoots {
  private readonly roots: readonly string[];

  /** `defaultRoot`: media.recordingsFolder; `extra`: media.recordingRoots. */
  constructor(defaultRoot: string, extra: readonly string[] = []) {
    this.roots = [defaultRoot, ...extra].map((root) => path.resolve(root));
  }

  /** Folder for recordings that name none (relative names resolve against it too). */
  get defaultRoot(): string {
    return this.roots[0] as string;
  }

  /**
   * The same recording, with absolute paths, when it lies inside a root; throws
   * RecordingPathError otherwise. Creates a missing root itself, nothing else.
   */
  confine(where: RecordingPath): RecordingPath {
    const file = path.resolve(this.defaultRoot, where.path);
    const finalPath = path.resolve(this.defaultRoot, where.finalPath);
    const dir = path.dirname(file);
    const root = this.roots.find((candidate) => inside(dir, candidate) && inside(path.dirname(finalPath), candidate));
    if (!root) throw new RecordingPathError(`Recording path ${file} is outside the recording folders`);
    try {
      if (!fs.existsSync(root)) fs.mkdirSync(root, { recursive: true, mode: 0o755 });
      const rootReal = fs.realpathSync(root);
      const existingReal = fs.realpathSync(deepestExisting(dir));
      if (!inside(existingReal, rootReal)) {
        throw new RecordingPathError(`Recording path ${file} leads out of the recording folders (symlink)`);
      }
    } catch (error) {
      if (error instanceof RecordingPathError) throw error;
      throw new RecordingPathError(`Recording path ${file} cannot be checked: ${(error as Error).message}`);
    }
    for (const candidate of [file, finalPath]) {
      if (fs.lstatSync(candidate, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new RecordingPathError(`Recording path ${candidate} is a symlink`);
      }
    }
    return { ...where, dir, fileName: path.basename(file), path: file, finalPath };
  }
}
