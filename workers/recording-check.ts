// startRecording's path check on the script thread: the same rule the media plane enforces
// (src/common/recording-roots.ts), applied here so the script gets -1 at once.

import { RecordingRoots } from '../src/common/recording-roots';
import type { LoadTask } from '../src/common/bridge';

export function recordingCheck(task: LoadTask): (folder: string | null, filename: string | null) => boolean {
  const [first, ...extra] = task.recordingRoots ?? [];
  if (first === undefined) return () => true;
  const roots = new RecordingRoots(first, extra);
  return (folder, filename) => roots.allows(folder, filename);
}
