// Recording paths are confined to the recording roots (media.recordingsFolder plus
// media.recordingRoots): `..`, absolute paths elsewhere and symlinks leading out are refused
// with one warning line, and nothing (file or folder) is created outside a root.

import { expect } from 'chai';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { MediaEngine } from '../src/media/engine';
import type { PluginHandle } from '../src/plugin/plugin';
import { createJsPlugin } from '../src/script/js-plugin';
import { createLuaPlugin } from '../src/script/lua-plugin';
import type { ScriptPlugin } from '../src/script/script-plugin';
import { ourJs } from './fixtures/js/fixtures';
import { FakeHost, RecordingRouter, ourLua } from './lua-fixtures';
import { openRecorders } from '../src/media/recording/writer';
import { RecordingPathError, RecordingRoots } from '../src/common/recording-roots';
import { DirectTransports } from '../src/media/direct-transports';
import { RecordingSet } from '../src/media/recording-set';
import type { RecordingRequest } from '../src/plugin/media';
import { captureLogger } from './support/log-capture';
import { ConfigError, defaultConfig, parseConfig } from '../src/config';

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

  it('makes the media plane put recordings naming no folder in the default root', async () => {
    const set = new RecordingSet({
      engine: {} as unknown as MediaEngine,
      logger: captureLogger().logger,
      roots,
      directs: new DirectTransports(),
    });
    const started = set.start(
      [{ type: 'audio', codec: 'opus' }, { type: 'video', codec: 'vp8', filename: 'rooms/7/video' }, { type: 'data', codec: 'text', filename: 'chat' }],
      { audio: false, video: false },
    );
    expect(started).to.equal(true);
    await set.close();
    const files = tree(rec);
    expect(files).to.include.members(['chat.mjr', path.join('rooms', '7', 'video.mjr')]);
    expect(files.filter((f) => /^janus-recording-\d+\.mjr$/.test(f))).to.have.length(1);
  });

  it('writes name.mjr.<ext> while open and renames it on close (media.recordingsTmpExt)', async () => {
    const set = new RecordingSet({
      engine: {} as unknown as MediaEngine,
      logger: captureLogger().logger,
      roots,
      tempExtension: 'part',
      directs: new DirectTransports(),
    });
    expect(set.start([{ type: 'audio', codec: 'opus', filename: 'call' }], { audio: false, video: false })).to.equal(true);
    expect(tree(rec)).to.include('call.mjr.part').and.not.include('call.mjr');
    await set.close();
    expect(tree(rec)).to.include('call.mjr').and.not.include('call.mjr.part');
  });

  it('takes media.recordingsTmpExt from the config, "" by default, and refuses one that is a path', () => {
    expect(defaultConfig().media.recordingsTmpExt).to.equal('');
    expect(parseConfig({ media: { recordingsTmpExt: 'part' } }).media.recordingsTmpExt).to.equal('part');
    expect(() => parseConfig({ media: { recordingsTmpExt: '../x' } })).to.throw(ConfigError, /recordingsTmpExt/);
  });

  it('makes the media plane refuse the recording with one warning line', () => {
    const log = captureLogger();
    const set = new RecordingSet({
      engine: {} as unknown as MediaEngine,
      logger: log.logger,
      roots,
      directs: new DirectTransports(),
    });
    const ok = set.start([{ type: 'audio', codec: 'opus', folder: '../../../tmp', filename: 'escape' }], { audio: false, video: false });
    expect(ok).to.equal(false);
    const warnings = log.records.filter((record) => record.level === 'warn');
    expect(warnings).to.have.length(1);
    expect(JSON.stringify(warnings[0])).to.include('outside the recording folders');
  });
});

/** A media router with recording roots, as the mediasoup relay has. */
class RootedRouter extends RecordingRouter {
  constructor(sink: ConstructorParameters<typeof RecordingRouter>[0], readonly recordingRoots: readonly string[]) {
    super(sink);
  }
}

for (const runtime of ['lua', 'js'] as const) {
  describe(`startRecording outside the recording roots gives -1 at once (${runtime} script)`, function () {
    this.timeout(20000);
    let base: string;
    let plugin: ScriptPlugin;
    let host: FakeHost;
    let logLines: Array<Record<string, unknown>>;

    before(async () => {
      base = fs.mkdtempSync(path.join(tmpdir(), 'luasfu-recscript-'));
      fs.mkdirSync(path.join(base, 'rec'));
      fs.mkdirSync(path.join(base, 'outside'));
      fs.symlinkSync(path.join(base, 'outside'), path.join(base, 'rec', 'link'));
      host = new FakeHost(false);
      Object.defineProperty(host, 'media', { value: new RootedRouter(host.sequence, [path.join(base, 'rec')]) });
      const log = captureLogger();
      logLines = log.records;
      const config = { instructionLimit: 1_000_000, memoryLimitMb: 64 };
      plugin = runtime === 'lua'
        ? createLuaPlugin({ path: ourLua('record-paths.lua'), ...config }, log.logger)
        : createJsPlugin({ path: ourJs('record-paths.js'), ...config }, log.logger);
      await plugin.init(host);
    });

    after(async () => {
      await plugin.destroy();
      fs.rmSync(base, { recursive: true, force: true });
    });

    it('answers 0 inside a root and -1 (with one warning) for .., absolute and symlinked paths', async () => {
      const handle: PluginHandle = { id: 4242, sessionId: 1 };
      await plugin.createSession(handle);
      const attempt = async (folder: string | undefined, filename: string): Promise<unknown> => {
        const body: Record<string, string> = { filename };
        if (folder !== undefined) body.folder = folder;
        const result = await plugin.handleMessage(handle, 'tr', body, undefined);
        if (result.kind !== 'ok') throw new Error(`handleMessage: ${JSON.stringify(result)}`);
        return result.data.result;
      };
      expect(await attempt(path.join(base, 'rec'), 'fine')).to.equal(0);
      expect(await attempt(undefined, 'plain')).to.equal(0);
      const before = logLines.filter((line) => line.level === 'warn').length;
      expect(await attempt('../outside', 'x')).to.equal(-1);
      expect(await attempt('/etc', 'x')).to.equal(-1);
      expect(await attempt(path.join(base, 'rec', 'link'), 'x')).to.equal(-1);
      expect(await attempt(undefined, '../../x')).to.equal(-1);
      const warnings = logLines.filter((line) => line.level === 'warn').slice(before);
      expect(warnings).to.have.length(4);
      for (const warning of warnings) expect(JSON.stringify(warning)).to.include('outside the recording folders');
      const started = host.media.calls.filter((call) => call[0] === 'startRecording');
      expect(started).to.have.length(2);
    });
  });
}
