// Recording paths are confined to the recording roots (media.recordingsFolder plus
// media.recordingRoots): `..`, absolute paths elsewhere and symlinks leading out are refused
// with one warning line, and nothing (file or folder) is created outside a root.

import { expect } from 'chai';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { MediaEngine } from '../src/media/engine';
import { openRecorders } from '../src/media/recorder';
import { RecordingPathError, RecordingRoots } from '../src/media/recording-roots';
import { RecordingSet } from '../src/media/recording-set';
import type { RecordingRequest } from '../src/plugin/media';
import { captureLogger } from './support/log-capture';

/** Every path under `dir`, relative, sorted (symlinks not followed). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      out.push(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

describe('recording paths confined to the recording roots', () => {
  let base: string;
  let rec: string;
  let extra: string;
  let outside: string;
  let roots: RecordingRoots;

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(tmpdir(), 'luasfu-recroots-'));
    rec = path.join(base, 'rec');
    extra = path.join(base, 'extra');
    outside = path.join(base, 'outside');
    for (const dir of [rec, extra, outside]) fs.mkdirSync(dir);
    fs.symlinkSync(outside, path.join(rec, 'link'));
    fs.writeFileSync(path.join(outside, 'victim.mjr'), 'precious');
    fs.symlinkSync(path.join(outside, 'victim.mjr'), path.join(rec, 'trap.mjr'));
    roots = new RecordingRoots(rec, [extra]);
  });

  afterEach(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  const open = (folder: string | undefined, filename: string | undefined): Promise<void> => {
    const request: RecordingRequest = { type: 'audio', codec: 'opus' };
    if (folder !== undefined) request.folder = folder;
    if (filename !== undefined) request.filename = filename;
    const recorders = openRecorders([request], { roots });
    return Promise.all([...recorders.values()].map((r) => r.close())).then(() => undefined);
  };

  it('writes inside the default root, an extra root and their subfolders', async () => {
    await open(undefined, 'plain');
    await open('rooms/1', 'relative');
    await open(path.join(extra, 'deep', 'er'), 'extra');
    await open(rec, 'sub/../inside');
    expect(fs.existsSync(path.join(rec, 'plain.mjr'))).to.equal(true);
    expect(fs.existsSync(path.join(rec, 'rooms', '1', 'relative.mjr'))).to.equal(true);
    expect(fs.existsSync(path.join(extra, 'deep', 'er', 'extra.mjr'))).to.equal(true);
    expect(fs.existsSync(path.join(rec, 'inside.mjr'))).to.equal(true);
  });

  it('refuses .., absolute paths outside, symlinked folders and symlinked files; creates nothing outside', async () => {
    const before = tree(base);
    const attempts: Array<[string | undefined, string | undefined]> = [
      ['../escape', 'x'],
      [rec, '../../escape/x'],
      [undefined, '../escape2/x'],
      ['/etc', 'passwd-copy'],
      [path.join(base, 'newdir'), 'x'],
      [path.join(rec, 'link'), 'through-link'],
      [path.join(rec, 'link', 'made', 'here'), 'deeper'],
      [rec, 'trap'],
      [`${rec}-sibling`, 'prefix-trick'],
    ];
    for (const [folder, filename] of attempts) {
      let thrown: unknown;
      try {
        await open(folder, filename);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `${folder} ${filename}`).to.be.instanceOf(RecordingPathError);
    }
    expect(tree(base)).to.deep.equal(before);
    expect(fs.readFileSync(path.join(outside, 'victim.mjr'), 'utf8')).to.equal('precious');
    expect(fs.existsSync('/etc/passwd-copy.mjr')).to.equal(false);
  });

  it('opens nothing when one recording of a call escapes (all or nothing)', () => {
    const before = tree(base);
    expect(() => openRecorders([
      { type: 'audio', codec: 'opus', folder: rec, filename: 'fine' },
      { type: 'video', codec: 'vp8', folder: '../escape', filename: 'bad' },
    ], { roots })).to.throw(RecordingPathError);
    expect(tree(base)).to.deep.equal(before);
  });

  it('makes the media plane refuse the recording with one warning line', () => {
    const log = captureLogger();
    const set = new RecordingSet({
      engine: {} as unknown as MediaEngine,
      logger: log.logger,
      roots,
      createDirect: async () => undefined,
    });
    const ok = set.start([{ type: 'audio', codec: 'opus', folder: '../../../tmp', filename: 'escape' }], { audio: false, video: false });
    expect(ok).to.equal(false);
    const warnings = log.records.filter((record) => record.level === 'warn');
    expect(warnings).to.have.length(1);
    expect(JSON.stringify(warnings[0])).to.include('outside the recording folders');
  });
});
