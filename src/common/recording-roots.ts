// Where recordings go: record.c's naming (folder + filename, or a random name), confined to
// the recording roots (like Janus's `protected_folders`, but an allow-list): the configured
// recordings folder and any extra roots. Relative names resolve against the first root; the
// result must stay inside a root lexically (no `..` or absolute escape) and physically (no
// symlinked directory leading out, no symlink as the file). Checking creates nothing, so the
// script threads can answer -1 before anything is asked of the media plane.

import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NamedError } from './named-error';

export interface RecordingPath {
  /** Directory to create if missing; null = current directory, nothing created. */
  dir: string | null;
  /** Name on disk while recording (with the temporary extension, if any). */
  fileName: string;
  /** Path while recording. */
  path: string;
  /** Path after close (differs from `path` only with a temporary extension). */
  finalPath: string;
  /** Set when folder and filename both carry directories (Janus warns, then goes on). */
  warning?: string;
}

/**
 * Where a recording goes: `folder/filename.mjr`; a null folder takes the directory part of the
 * filename; a null filename gives `janus-recording-<random u32>.mjr`.
 */
export function resolveRecordingPath(
  folder: string | null | undefined,
  filename: string | null | undefined,
  options: { tempExtension?: string; randomU32?: () => number } = {},
): RecordingPath {
  let dir: string | null = null;
  let file: string | null = null;
  let warning: string | undefined;
  if (filename != null) {
    const parent = path.posix.dirname(filename);
    const base = path.posix.basename(filename);
    if (folder == null) {
      dir = parent;
      file = base;
    } else {
      dir = folder;
      file = filename;
      if (parent !== '.' || base !== filename) warning = `Unsupported combination of dir and filename ${folder} ${filename}`;
    }
  }
  // Janus ignores the folder when there is no filename: the random name lands in the cwd.
  const random = options.randomU32 ?? (() => randomInt(0, 2 ** 32));
  const finalName = file == null ? `janus-recording-${random() >>> 0}.mjr` : `${file}.mjr`;
  const fileName = options.tempExtension ? `${finalName}.${options.tempExtension}` : finalName;
  const join = (name: string): string => (dir == null ? name : `${dir}/${name}`);
  return { dir, fileName, path: join(fileName), finalPath: join(finalName), warning };
}

/** A recording path outside every recording root. */
export class RecordingPathError extends NamedError {}

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

  /** Every root, the default one first. */
  get all(): readonly string[] {
    return this.roots;
  }

  /** Folder for recordings that name none (relative names resolve against it too). */
  get defaultRoot(): string {
    return this.roots[0] as string;
  }

  /**
   * The same recording with absolute paths when it lies inside a root; throws
   * RecordingPathError otherwise. Creates nothing.
   */
  confine(where: RecordingPath): RecordingPath {
    const file = path.resolve(this.defaultRoot, where.path);
    const finalPath = path.resolve(this.defaultRoot, where.finalPath);
    const dir = path.dirname(file);
    const root = this.roots.find((candidate) => inside(dir, candidate) && inside(path.dirname(finalPath), candidate));
    if (!root) throw new RecordingPathError(`Recording path ${file} is outside the recording folders`);
    const existing = deepestExisting(dir);
    // When the root itself is missing, everything from it down is still to be created.
    if (inside(existing, root)) {
      let real: string;
      let rootReal: string;
      try {
        real = fs.realpathSync(existing);
        rootReal = fs.realpathSync(root);
      } catch (error) {
        throw new RecordingPathError(`Recording path ${file} cannot be checked: ${(error as Error).message}`);
      }
      if (!inside(real, rootReal)) throw new RecordingPathError(`Recording path ${file} leads out of the recording folders`);
    }
    for (const candidate of [file, finalPath]) {
      if (fs.lstatSync(candidate, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new RecordingPathError(`Recording path ${candidate} is a symlink`);
      }
    }
    return { ...where, dir, fileName: path.basename(file), path: file, finalPath };
  }

  /** Whether a script's folder/filename (startRecording's arguments) may be recorded to. */
  allows(folder: string | null | undefined, filename: string | null | undefined): boolean {
    try {
      this.confine(resolveRecordingPath(folder, filename, { randomU32: () => 0 }));
      return true;
    } catch (error) {
      if (error instanceof RecordingPathError) return false;
      throw error;
    }
  }
}
