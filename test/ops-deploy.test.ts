// The deployment kit, checked as far as this machine allows: the production example passes
// `luasfu --check-config` (secrets from the environment, Admin API and metrics on loopback),
// a bad file is refused naming the field, the systemd unit passes `systemd-analyze verify` with
// a low exposure score, and the Dockerfile's runtime stage installs every shared library the
// built mediasoup worker links. The config schema agrees with the code's event types.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_SCHEMA_FILE, defaultConfig } from '../src/config';
import { EVENT_TYPE_NAMES } from '../src/events/event-bus';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const EXAMPLE = join(ROOT, 'examples', 'luasfu.production.json');
const UNIT = join(ROOT, 'deploy', 'luasfu.service');
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
const WORKER = join(ROOT, 'node_modules', 'mediasoup', 'worker', 'out', 'Release', 'mediasoup-worker');

function luasfu(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The node flags of the luasfu command's shebang, which the unit and the image must run it with too. */
function shebangFlags(): string[] {
  const first = readFileSync(CLI, 'utf8').split('\n')[0]!;
  const match = /^#!\/usr\/bin\/env -S node ?(.*)$/.exec(first);
  expect(match, first).to.not.equal(null);
  return match![1]!.split(' ').filter((flag) => flag !== '');
}

function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('LUASFU_')) delete env[name];
  return env;
}

describe('ops: deployment kit', function () {
  this.timeout(30_000);

  it('the production example passes --check-config with its secrets from the environment', () => {
    const env = { ...baseEnv(), LUASFU_ADMIN_SECRET: 's3cret-admin', LUASFU_PUBLIC_IP: '203.0.113.10' };
    const result = luasfu(['--check-config', EXAMPLE], env);
    expect(result.stderr).to.equal('');
    expect(result.status).to.equal(0);
    const config = JSON.parse(result.stdout) as Record<string, Record<string, unknown> & { enabled?: boolean }>;
    expect(config.adminSecret).to.equal('(set)');
    expect(result.stdout).to.not.include('s3cret-admin');
    expect(config.apiSecret).to.equal('');
    expect(config.media!.listenIps).to.deep.equal([{ ip: '0.0.0.0', announcedIp: '203.0.113.10' }]);
    expect(config.media!.basePort).to.equal(40000);
    // Admin API and ops listener on loopback; the Admin WebSocket off.
    expect(config.listenIp).to.equal('127.0.0.1');
    expect(config.adminListenIp).to.equal('127.0.0.1');
    expect(config.metrics).to.include({ enabled: true, listenIp: '127.0.0.1', port: 9464 });
    expect(config.adminWebsocket!.enabled).to.equal(false);
    expect(config.log).to.deep.equal({ level: 'info', format: 'json' });
  });

  it('--check-config names an unset variable and a bad field', () => {
    const unset = luasfu(['--check-config', EXAMPLE], { ...baseEnv(), LUASFU_ADMIN_SECRET: 'x' });
    expect(unset.status).to.equal(2);
    expect(unset.stderr).to.equal('luasfu: config: media.listenIps[0].announcedIp uses ${LUASFU_PUBLIC_IP}, which is not set in the environment\n');
    const dir = mkdtempSync(join(tmpdir(), 'luasfu-deploy-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ media: { rtcMinPort: 40000, rtcMaxPort: 70000 } }));
      const refused = luasfu(['--check-config', bad], baseEnv());
      expect(refused.status).to.equal(2);
      expect(refused.stdout).to.equal('');
      expect(refused.stderr).to.equal('luasfu: config: media.rtcMaxPort must be an integer from 1024 to 65535\n');
      writeFileSync(bad, JSON.stringify({ scripts: [{ path: 'a.lua', memoryLimit: 5 }] }));
      expect(luasfu(['--check-config', bad], baseEnv()).stderr).to.equal('luasfu: config: scripts[0].memoryLimit is not a known setting\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm start runs the luasfu command itself, so with its shebang\'s node flags', () => {
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start'];
    expect(start?.split(' ')[0]).to.equal('dist/src/cli.js');
    expect(shebangFlags()).to.include('--no-memory-reducer');
  });

  it('the systemd unit passes systemd-analyze verify, with a low exposure score', function () {
    if (spawnSync('systemd-analyze', ['--version']).error) this.skip();
    let unit = UNIT;
    const dir = mkdtempSync(join(tmpdir(), 'luasfu-unit-'));
    try {
      // verify checks that ExecStart's program exists: point it at this node when it lives elsewhere.
      if (!existsSync('/usr/bin/node')) {
        unit = join(dir, 'luasfu.service');
        writeFileSync(unit, readFileSync(UNIT, 'utf8').replaceAll('/usr/bin/node', process.execPath));
      }
      const execStart = /^ExecStart=\/usr\/bin\/node (.*) \/opt\/luasfu\/dist\/src\/cli\.js /m.exec(readFileSync(UNIT, 'utf8'));
      expect(execStart?.[1]?.split(' ')).to.deep.equal(shebangFlags());
      const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 20_000 });
      expect(verify.stderr + verify.stdout).to.equal('');
      expect(verify.status).to.equal(0);
      const security = spawnSync('systemd-analyze', ['security', '--offline=true', unit], { encoding: 'utf8', timeout: 20_000 });
      const level = /Overall exposure level for luasfu\.service: ([\d.]+)/.exec(security.stdout);
      expect(level, security.stdout + security.stderr).to.not.equal(null);
      expect(Number(level![1])).to.be.at.most(2.0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the Dockerfile runtime stage installs every library the built worker links, and copies what exists', () => {
    const dockerfile = readFileSync(DOCKERFILE, 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const installed = new Set(/apt-get install -y --no-install-recommends ([^\n&]+)/.exec(runtime)![1]!.trim().split(/\s+/));
    const ldd = spawnSync('ldd', [WORKER], { encoding: 'utf8' });
    expect(ldd.status).to.equal(0);
    const libraries = [...ldd.stdout.matchAll(/=> (\/\S+)/g)].map((m) => m[1]!);
    expect(libraries.length).to.be.greaterThan(3);
    const packages = new Set<string>();
    for (const library of libraries) {
      const owner = spawnSync('dpkg', ['-S', library.replace(/^\/lib\//, '/usr/lib/')], { encoding: 'utf8' });
      const fallback = owner.status === 0 ? owner : spawnSync('dpkg', ['-S', library], { encoding: 'utf8' });
      expect(fallback.status, `dpkg -S ${library}`).to.equal(0);
      packages.add(fallback.stdout.split(':')[0]!);
    }
    // libc6 is in every Debian image; every other package must be installed explicitly.
    const missing = [...packages].filter((pkg) => pkg !== 'libc6' && !installed.has(pkg));
    expect(missing).to.deep.equal([]);
    for (const source of ['package.json', 'config.schema.json', 'README.md', 'dist', 'lua', 'proto', 'node_modules']) {
      expect(existsSync(join(ROOT, source)), source).to.equal(true);
    }
    const entrypoint = /ENTRYPOINT (\[.*\])/.exec(runtime)!;
    expect(JSON.parse(entrypoint[1]!)).to.deep.equal(['node', ...shebangFlags(), '/opt/luasfu/dist/src/cli.js']);
    const defaults = defaultConfig();
    const ports = [defaults.http.port, defaults.websocket.port, defaults.adminHttp.port, defaults.adminWebsocket.port, defaults.metrics.port];
    expect(/EXPOSE ([\d ]+)/.exec(runtime)![1]!.trim().split(' ').map(Number)).to.deep.equal(ports);
  });

  it('the JSON Schema in the package lists the event types the code knows', () => {
    const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')) as {
      properties: { eventHandlers: { properties: { http: { properties: { events: { items: { enum: string[] } } } } } } };
    };
    expect(schema.properties.eventHandlers.properties.http.properties.events.items.enum).to.deep.equal([...Object.keys(EVENT_TYPE_NAMES), 'all']);
  });
});
