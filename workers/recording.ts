// startRecording and stopRecording on the script thread, after each runtime has read and
// checked its arguments: Janus's rules (src/common/recording-args.ts) against the session
// mirror, the mirror updated and the host call recorded. Each runtime only turns the outcome
// into its own answer (Lua: 0/-1; JavaScript: 0 or an Error).

import { planRecordings, stopRecordingTypes, type RecordingGroup } from '../src/common/recording-args';
import type { HostCall } from '../src/common/bridge';
import type { SessionMirror } from './session-mirror';

/** What these need of a runtime's host environment. */
export interface RecordingEnvironment {
  readonly sessions: SessionMirror;
  recordingAllowed(folder: string | null, filename: string | null): boolean;
  emit(call: HostCall): void;
}

/** Whether the call succeeded; every warning and the failure go to `warn`, prefixed. */
export function startRecording(env: RecordingEnvironment, id: number, groups: readonly RecordingGroup[], warn: (message: string) => void): boolean {
  const plan = planRecordings(groups, {
    isRecording: (type) => env.sessions.isRecording(id, type),
    pathAllowed: (folder, filename) => env.recordingAllowed(folder, filename),
  });
  for (const warning of plan.warnings) warn(`startRecording: ${warning}`);
  if (!plan.ok) {
    warn(`startRecording: ${plan.error}`);
    return false;
  }
  // Only unknown types: Janus answers 0 and there is nothing to record.
  if (plan.recordings.length === 0) return true;
  for (const r of plan.recordings) env.sessions.setRecording(id, r.type, true);
  env.emit({ startRecording: { session: id, recordings: plan.recordings } });
  return true;
}

/** Closes the named recorders the session has (nil and unknown names skipped). */
export function stopRecording(env: RecordingEnvironment, id: number, named: readonly (string | null)[]): void {
  const types = stopRecordingTypes(named).filter((type) => env.sessions.isRecording(id, type));
  for (const type of types) env.sessions.setRecording(id, type, false);
  if (types.length > 0) env.emit({ stopRecording: { session: id, types } });
}
