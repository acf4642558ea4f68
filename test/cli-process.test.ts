// The luasfu command as a process: one-line errors for bad input, a real start on 127.0.0.1,
// and a clean SIGTERM shutdown that leaves no mediasoup worker behind.

import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from '../src/cli-args';
import { childrenOf } from '../bench/lib/proc';

const CLI = join(__dirname, '..', 'src', 'cli.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the luasfu command', function () {
  this.timeout(30000);
  let dir: string;
  let child: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-cli-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help and version', () => {
    const help = run(['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/^Usage: luasfu \[options\]/);
    const version = run(['--version']);
    expect(version.stdout.trim()).to.match(/^luasfu \d+\.\d+\.\d+$/);
  });

  it('refuses a missing script or an invalid config with one line naming the field', () => {
    const missing = run(['--script', join(dir, 'nope.lua')]);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.equal(`luasfu: config: scripts[0].path: no such file: ${join(dir, 'nope.lua')}\n`);
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ websocket: { port: 'x' } }));
    const bad = run(['--config', file]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.equal('luasfu: config: websocket.port must be an integer from 0 to 65535\n');
  });

  it('refuses to start an Admin API off loopback with the sample secret or none (one line, exit 2)', () => {
    const reason = 'luasfu: config: adminSecret must be set to a private value when the Admin API listens on 0.0.0.0 (not loopback); ' +
      'change adminSecret, or set adminListenIp to 127.0.0.1, or disable adminHttp and adminWebsocket\n';
    const sample = run(['--admin-ip', '0.0.0.0']);
    expect(sample.status).to.equal(2);
    expect(sample.stderr).to.equal(reason);
    const file = join(dir, 'open-admin.json');
    writeFileSync(file, JSON.stringify({ adminListenIp: '0.0.0.0', adminSecret: '' }));
    const none = run(['--config', file]);
    expect(none.status).to.equal(2);
    expect(none.stderr).to.equal(reason);
    const sampleInFile = run(['--config', file, '--admin-secret', 'janusoverlord']);
    expect(sampleInFile.status).to.equal(2);
    expect(sampleInFile.stderr).to.equal(reason);
    // A private secret, or the listeners disabled, is accepted (checked without starting).
    const disabled = join(dir, 'no-admin.json');
    writeFileSync(disabled, JSON.stringify({ adminListenIp: '0.0.0.0', adminSecret: '', adminHttp: { enabled: false }, adminWebsocket: { enabled: false } }));
    expect(() => parseCli(['--config', disabled], join(__dirname, '..', '..'))).to.not.throw();
    expect(() => parseCli(['--admin-ip', '0.0.0.0', '--admin-secret', 'a-private-one'], join(__dirname, '..', '..'))).to.not.throw();
  });

  it('starts, listens on 127.0.0.1, and stops cleanly on SIGTERM without orphan workers', async () => {
    const args = [
      CLI, '--listen-ip', '127.0.0.1', '--rtc-ip', '127.0.0.1', '--http-port', '0', '--ws-port', '0',
      '--admin-http-port', '0', '--admin-ws-port', '0', '--metrics-port', '0', '--workers', '2',
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    const deadline = Date.now() + 20000;
    while (!log.includes('"luasfu listening"')) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const listening = JSON.parse(log.split('\n').find((line) => line.includes('"luasfu listening"'))!) as Record<string, unknown>;
    expect(listening.level).to.equal('info');
    const info = (await (await fetch(`http://127.0.0.1:${String(listening.http)}/janus/info`)).json()) as Record<string, unknown>;
    expect(info.janus).to.equal('server_info');
    expect(Object.keys(info.plugins as object)).to.deep.equal(['janus.plugin.echolua']);
    const workers = childrenOf(proc.pid!);
    expect(workers).to.have.length(2);

    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).to.equal(0);
    // Exited (at most waiting to be reaped by init), not orphaned and running.
    const alive = workers.filter((pid) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
    expect(alive).to.deep.equal([]);
    expect(log).to.include('"luasfu stopped"');
  });
});
