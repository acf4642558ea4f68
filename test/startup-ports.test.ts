// Startup: every listener binds its port exclusively (a second luasfu on the same ports fails
// instead of sharing them through SO_REUSEPORT), as a rejected promise from the library and a
// one-line error with exit 2 from the command; the one startup line lists the API, Admin and
// media addresses; media addresses default to the host's non-loopback IPv4 addresses.

import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../src/config';
import { startLuasfu } from '../src/index';
import { silentLogger } from '../src/log';
import { resolveMediaAddresses } from '../src/media/addresses';
import { startupSummary } from '../src/startup';
import { startTestServer, testConfig } from './support/test-server';

const CLI = join(__dirname, '..', 'src', 'cli.js');
const LOCAL_PORTS = ['--listen-ip', '127.0.0.1', '--rtc-ip', '127.0.0.1', '--workers', '1', '--metrics-port', '0'];

function iface(address: string, internal = false, family: 'IPv4' | 'IPv6' = 'IPv4'): NetworkInterfaceInfo {
  return { address, internal, family, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null } as NetworkInterfaceInfo;
}

interface StartupLine {
  api: string[];
  admin: string[];
  media: string[];
  http: number;
  websocket: number;
  adminHttp: number;
  adminWebsocket: number;
}

/** Starts the command and resolves with its parsed startup line. */
async function startCli(args: string[]): Promise<{ proc: ChildProcess; line: StartupLine }> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
  });
  const deadline = Date.now() + 20000;
  while (!log.includes('"luasfu listening"')) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error(`no start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const text = log.split('\n').filter((line) => line.includes('"luasfu listening"'));
  expect(text, 'exactly one startup line').to.have.length(1);
  return { proc, line: JSON.parse(text[0]!) as StartupLine };
}

describe('startup: exclusive ports and the startup line', function () {
  this.timeout(60000);
  const procs: ChildProcess[] = [];

  after(() => {
    for (const proc of procs) if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('the library rejects a second server on a port in use, naming it; the first keeps serving', async () => {
    const first = await startTestServer();
    try {
      const taken = first.ports.websocket;
      const error = await startTestServer({ config: { websocket: { enabled: true, port: taken } } }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).to.equal('ListenError');
      expect(error?.message).to.equal(`cannot listen on 127.0.0.1:${taken} (port in use or address not available)`);
      // startLuasfu (mediasoup and all) rejects the same way and leaves nothing running.
      const config = testConfig({ adminHttp: { enabled: true, port: first.ports.adminHttp, path: '/admin' } });
      config.media = { ...config.media, workers: 1, listenIps: [{ ip: '127.0.0.1' }] };
      const failed = await startLuasfu({ config, logger: silentLogger() }).then(() => undefined, (e: unknown) => e as Error);
      expect(failed?.message).to.include(`127.0.0.1:${first.ports.adminHttp}`);
      const info = (await (await fetch(`${first.urls.http}/info`)).json()) as Record<string, unknown>;
      expect(info.janus).to.equal('server_info');
    } finally {
      await first.close();
    }
  });

  it('the command prints one startup line with API, Admin and media addresses, and a second one on its ports exits 2 with one line', async () => {
    const { proc, line } = await startCli([...LOCAL_PORTS, '--http-port', '0', '--ws-port', '0', '--admin-http-port', '0', '--admin-ws-port', '0']);
    procs.push(proc);
    expect(line.api).to.deep.equal([`http://127.0.0.1:${line.http}/janus`, `ws://127.0.0.1:${line.websocket}`]);
    expect(line.admin).to.deep.equal([`http://127.0.0.1:${line.adminHttp}/admin`, `ws://127.0.0.1:${line.adminWebsocket}`]);
    expect(line.media).to.have.length(1);
    expect(line.media[0]).to.match(/^udp 127\.0\.0\.1:\d+$/);
    const mediaPort = Number(line.media[0]!.split(':')[1]);

    for (const [flag, port] of [['--ws-port', line.websocket], ['--admin-http-port', line.adminHttp]] as const) {
      const ports: Record<string, string> = { '--http-port': '0', '--ws-port': '0', '--admin-http-port': '0', '--admin-ws-port': '0' };
      ports[flag] = String(port);
      const second = spawnSync(process.execPath, [CLI, ...LOCAL_PORTS, ...Object.entries(ports).flat()], { encoding: 'utf8', timeout: 20000 });
      expect(second.status, second.stderr).to.equal(2);
      const lines = second.stderr.trim().split('\n');
      // uWS (WebSocket) cannot tell why; node:http (HTTP) can.
      expect(lines[lines.length - 1]).to.match(new RegExp(`^luasfu: cannot listen on 127\\.0\\.0\\.1:${port} \\(port in use( or address not available)?\\)$`));
      expect(lines.filter((l) => l.startsWith('luasfu:'))).to.have.length(1);
    }
    // The media port too.
    const media = spawnSync(process.execPath, [CLI, ...LOCAL_PORTS, '--rtc-port', String(mediaPort), '--http-port', '0',
      '--ws-port', '0', '--admin-http-port', '0', '--admin-ws-port', '0'], { encoding: 'utf8', timeout: 20000 });
    expect(media.status, media.stderr).to.equal(2);
    const last = media.stderr.trim().split('\n').pop()!;
    expect(last).to.match(new RegExp(`^luasfu: cannot listen for media \\(udp\\) on 127\\.0\\.0\\.1 port ${mediaPort}: `));

    // The first server still answers.
    const info = (await (await fetch(`http://127.0.0.1:${line.http}/janus/info`)).json()) as Record<string, unknown>;
    expect(info.janus).to.equal('server_info');
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });

  it('media defaults to every non-loopback IPv4 address, or loopback with a warning', () => {
    const host = {
      lo: [iface('127.0.0.1', true), iface('::1', true, 'IPv6')],
      eth0: [iface('192.0.2.10'), iface('fe80::1', false, 'IPv6')],
      eth1: [iface('198.51.100.7'), iface('169.254.3.4')],
    };
    expect(resolveMediaAddresses([], host)).to.deep.equal({ addresses: [{ ip: '192.0.2.10' }, { ip: '198.51.100.7' }] });
    const lonely = resolveMediaAddresses([], { lo: [iface('127.0.0.1', true)] });
    expect(lonely.addresses).to.deep.equal([{ ip: '127.0.0.1' }]);
    expect(lonely.warning).to.match(/no non-loopback IPv4 address.*127\.0\.0\.1/);
    // Configured addresses win.
    expect(resolveMediaAddresses([{ ip: '10.0.0.2', announcedIp: '203.0.113.9' }], host)).to.deep.equal({
      addresses: [{ ip: '10.0.0.2', announcedIp: '203.0.113.9' }],
    });
  });

  it('the startup summary names every listener and media socket (announced addresses too)', () => {
    const config = { ...defaultConfig(), listenIp: '0.0.0.0', adminListenIp: '127.0.0.1' };
    const summary = startupSummary(config, { http: 8088, websocket: 8188, adminHttp: 7088 }, [
      { protocol: 'udp', ip: '0.0.0.0', announcedIp: '203.0.113.9', port: 40000 },
      { protocol: 'tcp', ip: '192.0.2.10', port: 40001 },
    ]);
    expect(summary).to.deep.equal({
      api: ['http://0.0.0.0:8088/janus', 'ws://0.0.0.0:8188'],
      admin: ['http://127.0.0.1:7088/admin'],
      media: ['udp 0.0.0.0:40000 announced as 203.0.113.9', 'tcp 192.0.2.10:40001'],
      ops: [],
    });
  });
});
