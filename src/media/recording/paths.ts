// Where a recording is written, decided once per file: record.c's naming
// (resolveRecordingPath), confined to the recording roots when the media plane has them.
// Creates nothing, so every file of a startRecording call can be placed before any is opened.

import { type RecordingPath, type RecordingRoots, resolveRecordingPath } from '../../common/recording-roots';

export interface PlacementOptions {
  /** janus.jcfg `recordings_tmp_ext`: write `name.mjr.<ext>`, rename on close. */
  tempExtension?: string;
  /** The random name's number (tests fix it). */
  randomU32?: () => number;
  /** Recording roots the file must lie in (relative names resolve against the first). */
  roots?: RecordingRoots;
}

/** The recording's path; throws RecordingPathError when it lies outside the roots. */
export function placeRecording(
  folder: string | null | undefined,
  filename: string | null | undefined,
  options: PlacementOptions = {},
): RecordingPath {
  const resolved = resolveRecordingPath(folder, filename, { tempExtension: options.tempExtension, randomU32: options.randomU32 });
  return options.roots ? options.roots.confine(resolved) : resolved;
}
