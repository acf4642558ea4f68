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

  it('reads media addresses, ports and ICE-TCP (listenIp/announcedIp still accepted) from file and flags', () => {
    expect(parseConfig({}).media).to.include({ basePort: 0, iceTcp: false });
    expect(parseConfig({}).media.listenIps).to.deep.equal([]);
    expect(parseConfig({ media: { listenIps: ['10.0.0.2', { ip: '10.0.0.3', announcedIp: '203.0.113.9' }] } }).media.listenIps)
      .to.deep.equal([{ ip: '10.0.0.2' }, { ip: '10.0.0.3', announcedIp: '203.0.113.9' }]);
    expect(parseConfig({ media: { listenIp: '10.0.0.2', announcedIp: '203.0.113.9' } }).media.listenIps)
      .to.deep.equal([{ ip: '10.0.0.2', announcedIp: '203.0.113.9' }]);
    expect(parseConfig({ media: { announcedIp: '203.0.113.9' } }).media.listenIps).to.deep.equal([{ ip: '0.0.0.0', announcedIp: '203.0.113.9' }]);
    expect(parseConfig({ media: { ports: [40000, 40001], iceTcp: true } }).media).to.include({ iceTcp: true });
    const run = (argv: string[]): ReturnType<typeof parseConfig> => {
      const command = parseCli(argv, PACKAGE_DIR);
      if (command.kind !== 'run') throw new Error('expected run');
      return command.config;
    };
    expect(run(['--rtc-ip', '10.0.0.2', '--rtc-ip', '10.0.0.3']).media.listenIps).to.deep.equal([{ ip: '10.0.0.2' }, { ip: '10.0.0.3' }]);
    expect(run(['--announced-ip', '203.0.113.9']).media.listenIps).to.deep.equal([{ ip: '0.0.0.0', announcedIp: '203.0.113.9' }]);
    expect(run(['--rtc-ip', '10.0.0.2', '--announced-ip', '203.0.113.9']).media.listenIps).to.deep.equal([{ ip: '10.0.0.2', announcedIp: '203.0.113.9' }]);
    expect(run(['--rtc-port', '40000', '--ice-tcp']).media).to.include({ basePort: 40000, iceTcp: true });
    expect(() => parseConfig({ media: { ports: [70000] } })).to.throw('config: media.ports[0] must be an integer from 0 to 65535');
    expect(() => parseConfig({ media: { listenIp: 'a', listenIps: ['b'] } })).to.throw('config: media.listenIp cannot be combined with media.listenIps');
    expect(() => parseConfig({ media: { listenIps: [{ announcedIp: 'x' }] } })).to.throw('config: media.listenIps[0].ip');
    expect(parseConfig({ maxSessionsPerConnection: 2, maxBufferedBytesPerConnection: 65536 })).to.include({
      maxSessionsPerConnection: 2, maxBufferedBytesPerConnection: 65536, maxHandlesPerSession: 256,
    });
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

  it('reads eventHandlers: a boolean (compatibility) or an object with an HTTP backend', () => {
    expect(parseConfig({}).eventHandlers).to.deep.equal({ enabled: false });
    expect(parseConfig({ eventHandlers: true }).eventHandlers).to.deep.equal({ enabled: true });
    expect(parseConfig({ eventHandlers: false }).eventHandlers).to.deep.equal({ enabled: false });
    expect(parseConfig({ eventHandlers: { enabled: true, http: { url: 'http://collector:8080/events' } } }).eventHandlers).to.deep.equal({
      enabled: true,
      http: {
        url: 'http://collector:8080/events', events: ['all'], grouping: true, maxBatch: 100, flushMs: 250,
        timeoutMs: 5000, retries: 3, headers: {},
      },
    });
    const full = {
      enabled: true,
      emitter: 'janus-eu-1',
      http: {
        url: 'https://collector/e', events: ['sessions', 'plugins'], grouping: false, maxBatch: 10, flushMs: 0,
        timeoutMs: 1000, retries: 0, headers: { Authorization: 'Bearer t' },
      },
    };
    expect(parseConfig({ eventHandlers: full }).eventHandlers).to.deep.equal(full);
  });

  it('names the offending eventHandlers field', () => {
    const url = 'http://c/e';
    const cases: Array<[unknown, string]> = [
      ['yes', 'config: eventHandlers must be true, false or an object'],
      [{ http: { url } }, 'config: eventHandlers.enabled is required'],
      [{ enabled: 1 }, 'config: eventHandlers.enabled must be true or false'],
      [{ enabled: true, sample: 1 }, 'config: eventHandlers.sample is not a known setting'],
      [{ enabled: true, emitter: '' }, 'config: eventHandlers.emitter must be a non-empty string'],
      [{ enabled: true, http: true }, 'config: eventHandlers.http must be an object'],
      [{ enabled: true, http: {} }, 'config: eventHandlers.http.url is required'],
      [{ enabled: true, http: { url: '' } }, 'config: eventHandlers.http.url must be a non-empty string'],
      [{ enabled: true, http: { url: 'ftp://c/e' } }, 'config: eventHandlers.http.url must be an http:// or https:// URL'],
      [{ enabled: true, http: { url: 'not a url' } }, 'config: eventHandlers.http.url must be an http:// or https:// URL'],
      [{ enabled: true, http: { url, events: 'all' } }, 'config: eventHandlers.http.events must be an array'],
      [{ enabled: true, http: { url, events: [] } }, 'config: eventHandlers.http.events must not be empty'],
      [{ enabled: true, http: { url, events: ['sessions', 'rtp'] } }, 'config: eventHandlers.http.events[1] must be one of sessions, handles, jsep, webrtc, media, plugins, transports, core, all'],
      [{ enabled: true, http: { url, grouping: 'yes' } }, 'config: eventHandlers.http.grouping must be true or false'],
      [{ enabled: true, http: { url, maxBatch: 0 } }, 'config: eventHandlers.http.maxBatch must be an integer from 1 to 10000'],
      [{ enabled: true, http: { url, flushMs: -1 } }, 'config: eventHandlers.http.flushMs must be an integer from 0 to 60000'],
      [{ enabled: true, http: { url, timeoutMs: 1.5 } }, 'config: eventHandlers.http.timeoutMs must be an integer from 100 to 600000'],
      [{ enabled: true, http: { url, retries: 11 } }, 'config: eventHandlers.http.retries must be an integer from 0 to 10'],
      [{ enabled: true, http: { url, headers: { A: 1 } } }, 'config: eventHandlers.http.headers.A must be a string'],
      [{ enabled: true, http: { url, batch: 1 } }, 'config: eventHandlers.http.batch is not a known setting'],
    ];
    for (const [eventHandlers, message] of cases) {
      expect(() => parseConfig({ eventHandlers }), JSON.stringify(eventHandlers)).to.throw(ConfigError, message);
    }
  });

  it('--demos serves the demo pages and loads the echo test and the video room when no script is named', () => {
    const command = parseCli(['--demos'], PACKAGE_DIR);
    if (command.kind !== 'run') throw new Error('expected run');
    expect(command.config.demos).to.deep.equal({
      enabled: true, janusJs: '/usr/share/javascript/janus-gateway/janus.js', adapterJs: '/usr/share/javascript/webrtc-adapter/adapter.js',
    });
    expect(command.config.scripts.map((s) => s.path)).to.deep.equal([resolve(PACKAGE_DIR, 'lua/echotest.lua'), resolve(PACKAGE_DIR, 'lua/videoroom.lua')]);
    const named = parseCli(['--demos', '--script', 'a.lua'], PACKAGE_DIR);
    if (named.kind !== 'run') throw new Error('expected run');
    expect(named.config.scripts.map((s) => s.path)).to.deep.equal(['a.lua']);
    expect(parseConfig({}).demos.enabled).to.equal(false);
    expect(parseConfig({ demos: true }).demos.enabled).to.equal(true);
    expect(parseConfig({ demos: { janusJs: '/srv/janus.js' } }).demos).to.deep.include({ enabled: true, janusJs: '/srv/janus.js' });
    expect(() => parseConfig({ demos: 'yes' })).to.throw(ConfigError, 'config: demos must be true, false or an object');
    expect(() => parseConfig({ demos: { folder: '/x' } })).to.throw(ConfigError, 'config: demos.folder is not a known setting');
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
