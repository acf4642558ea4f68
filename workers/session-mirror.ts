// The worker's view of the script's sessions, enough to answer host calls synchronously
// (docs/contract.md §1): which ids are live, which data channels are ready, which media are
// being recorded. The main thread drives it through createSession / dataReady / hangupMedia /
// destroySession tasks, so it changes in the same order the script sees callbacks.

export type RecorderType = 'audio' | 'video' | 'data';

interface MirroredSession {
  dataReady: boolean;
  recording: Set<RecorderType>;
}

export class SessionMirror {
  private readonly sessions = new Map<number, MirroredSession>();

  create(id: number): void {
    this.sessions.set(id, { dataReady: false, recording: new Set() });
  }

  /** Gone for good: after the script's destroySession returned. */
  remove(id: number): void {
    this.sessions.delete(id);
  }

  /** Live: created and not destroyed (alive-check). */
  alive(id: number): boolean {
    return this.sessions.has(id);
  }

  /** Still in the table (removeRecipient only needs this; true while destroySession runs). */
  inTable(id: number): boolean {
    return this.sessions.has(id);
  }

  setDataReady(id: number, ready: boolean): void {
    const s = this.sessions.get(id);
    if (s) s.dataReady = ready;
  }

  dataReady(id: number): boolean {
    return this.sessions.get(id)?.dataReady ?? false;
  }

  isRecording(id: number, type: RecorderType): boolean {
    return this.sessions.get(id)?.recording.has(type) ?? false;
  }

  setRecording(id: number, type: RecorderType, on: boolean): void {
    const s = this.sessions.get(id);
    if (!s) return;
    if (on) s.recording.add(type);
    else s.recording.delete(type);
  }

  get size(): number {
    return this.sessions.size;
  }
}
