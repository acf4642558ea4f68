// startRecording/stopRecording's argument rules (docs/contract.md §1), one module for the Lua
// and the JavaScript runtime, following janus_lua.c and janus_duktape.c, group by group:
//   1. a group whose type or codec is missing is skipped;
//   2. an unknown codec fails the whole call (Janus cannot create the recorder);
//   3. a path outside the recording folders fails the whole call (where Janus would fail to
//      create the file, luasfu refuses what lies outside its recording roots);
//   4. an unknown type still counts as a recording, so the call succeeds: Janus creates that
//      recorder and then leaks it; luasfu records nothing for it and warns;
//   5. a type already recording (earlier in this call or before it) is skipped, uncounted;
//   6. nothing counted fails the call.
// Unlike Janus, nothing is created before every group is checked, so a failing call leaves no
// stray file behind. The arity rules differ per runtime (Lua: 5, 9 or 13; Duktape: any) and
// stay in the runtimes.

import { codecNamed, mediumOf, type Medium } from './codecs';

/** Separator between codec and fmtp in startRecording's codec argument. */
const FMTP_SEPARATOR = '/fmtp=';

/** One (type, codec, folder, filename) group as the runtime read it (null: nil/absent). */
export interface RecordingGroup {
  type: string | null;
  codec: string | null;
  folder: string | null;
  filename: string | null;
}

/** One recorder to open; the codec lower-case, its fmtp split off. */
export interface PlannedRecording {
  type: Medium;
  codec: string;
  fmtp: string | null;
  folder: string | null;
  filename: string | null;
}

export type RecordingPlan =
  | { ok: true; recordings: PlannedRecording[]; warnings: string[] }
  | { ok: false; error: string; warnings: string[] };

/** What the plan needs to know about the session and the recording folders. */
export interface RecordingChecks {
  /** The session records this medium already. */
  isRecording(type: Medium): boolean;
  /** folder/filename lie inside the recording roots. */
  pathAllowed(folder: string | null, filename: string | null): boolean;
}

/** Splits "vp9/fmtp=profile-id=2" at the first separator (g_strsplit(…, 2)); the codec lower-cased. */
export function splitCodecFmtp(spec: string): { codec: string; fmtp: string | null } {
  const at = spec.indexOf(FMTP_SEPARATOR);
  return {
    codec: (at < 0 ? spec : spec.slice(0, at)).toLowerCase(),
    fmtp: at < 0 ? null : spec.slice(at + FMTP_SEPARATOR.length),
  };
}

/** Whether startRecording accepts this codec argument (with or without `/fmtp=`). */
export function isRecordingCodec(spec: string): boolean {
  return codecNamed(splitCodecFmtp(spec).codec) !== undefined;
}

/** The recorders a startRecording call opens, or why it fails (the rules above). */
export function planRecordings(groups: readonly RecordingGroup[], checks: RecordingChecks): RecordingPlan {
  const warnings: string[] = [];
  const recordings: PlannedRecording[] = [];
  let counted = 0;
  for (const { type, codec: spec, folder, filename } of groups) {
    if (type === null || spec === null) continue;
    const { codec, fmtp } = splitCodecFmtp(spec);
    if (codecNamed(codec) === undefined) return { ok: false, error: `Unsupported codec '${codec}'`, warnings };
    if (!checks.pathAllowed(folder, filename)) {
      return { ok: false, error: `${folder ?? ''} ${filename ?? ''} is outside the recording folders`, warnings };
    }
    const slot = mediumOf(type);
    if (slot === undefined) {
      warnings.push(`Unknown recording type '${type}', ignored`);
      counted++;
      continue;
    }
    if (checks.isRecording(slot) || recordings.some((r) => r.type === slot)) {
      warnings.push(`Duplicate ${slot} recording, skipping`);
      continue;
    }
    recordings.push({ type: slot, codec, fmtp, folder, filename });
    counted++;
  }
  if (counted === 0) return { ok: false, error: 'No recording created', warnings };
  return { ok: true, recordings, warnings };
}

/** stopRecording's types: the known media (any case), once each; nil and unknown names skipped. */
export function stopRecordingTypes(types: readonly (string | null)[]): Medium[] {
  const out: Medium[] = [];
  for (const type of types) {
    const slot = type === null ? undefined : mediumOf(type);
    if (slot !== undefined && !out.includes(slot)) out.push(slot);
  }
  return out;
}
