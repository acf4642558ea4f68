import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCli } from '../src/cli-args';
import { ConfigError, parseConfig } from '../src/config';

const PACKAGE_DIR = '/opt/luasfu';

describe('command line and config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to Janus ports and the packaged echotest.lua', () => {
    const command = parseCli([], PACKAGE_DIR);
    if (command.kind !== 'run') throw new Error('expected run');
    const { config } = command;
    expect(config.scripts.map((s) => s.path)).to.deep.equal([resolve(PACKAGE_DIR, 'lua/echotest.lua')]);
    expect([config.http.port, config.http.path, config.websocket.port]).to.deep.equal([8088, '/janus', 8188]);
    expect([config.adminHttp.port, config.adminHttp.path, config.adminWebsocket.port]).to.deep.equal([7088, '/admin', 7188]);
    expect(config.sessionTimeout).to.equal(60);
  });

  it('applies flags over the config file', () => {
    const file = join(dir, 'luasfu.json');
    writeFileSync(file, JSON.stringify({ http: { port: 9000 }, websocket: { port: 9001 }, log: { level: 'debug' } }));
    const command = parseCli(['--config', file, '--ws-port', '9100', '--script', 'a.lua', '--script', 'b.lua', '--script-config', 'x=1'], PACKAGE_DIR);
    if (command.kind !== 'run') throw new Error('expected run');
    expect(command.config.http.port).to.equal(9000);
    expect(command.config.websocket.port).to.equal(9100);
    expect(command.config.log.level).to.equal('debug');
    expect(command.config.scripts.map((s) => [s.path, s.config])).to.deep.equal([['a.lua', 'x=1'], ['b.lua', 'x=1']]);
  });

  it('answers --help and --version', () => {
    expect(parseCli(['--help'], PACKAGE_DIR)).to.deep.equal({ kind: 'help' });
    expect(parseCli(['-v'], PACKAGE_DIR)).to.deep.equal({ kind: 'version' });
  });

  it('names the offending field', () => {
    const cases: Array<[unknown, string]> = [
      [{ http: { port: 70000 } }, 'config: http.port must be an integer from 0 to 65535'],
      [{ websocket: { enabled: 'yes' } }, 'config: websocket.enabled must be true or false'],
      [{ log: { level: 'loud' } }, 'config: log.level must be one of fatal, error, warn, info, debug, trace'],
      [{ scripts: [{}] }, 'config: scripts[0].path is required'],
      [{ scripts: [{ path: 'a.js', timeLimitMs: 5 }] }, 'config: scripts[0].timeLimitMs must be an integer from 10 to 60000'],
      [{ bogus: 1 }, 'config: bogus is not a known setting'],
      [{ media: { rtcMinPort: 5000, rtcMaxPort: 4000 } }, 'config: media.rtcMinPort must not be above media.rtcMaxPort'],
    ];
    for (const [document, message] of cases) {
      expect(() => parseConfig(document), JSON.stringify(document)).to.throw(ConfigError, message);
    }
  });

  it('rejects unknown flags, bad ports and unreadable config files', () => {
    expect(() => parseCli(['--nope'], PACKAGE_DIR)).to.throw(ConfigError, /arguments are invalid/);
    expect(() => parseCli(['--http-port', 'x'], PACKAGE_DIR)).to.throw(ConfigError, 'config: --http-port must be a port number');
    expect(() => parseCli(['--config', join(dir, 'missing.json')], PACKAGE_DIR)).to.throw(ConfigError, /--config cannot be read/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{');
    expect(() => parseCli(['--config', bad], PACKAGE_DIR)).to.throw(ConfigError, /--config is not valid JSON/);
  });
});
