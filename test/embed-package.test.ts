// The package as users get it: `npm pack` ships the entry file, its types, the worker, the
// scripts and the install step; from a folder outside the checkout `luasfu` resolves through
// package.json `exports` for import (ESM), require (CommonJS) and TypeScript, and nothing else
// of dist/ is reachable.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the luasfu package', function () {
  this.timeout(90000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'luasfu-consumer-'));
    mkdirSync(join(dir, 'node_modules'));
    // As an installed dependency: node_modules/luasfu is the package folder.
    symlinkSync(ROOT, join(dir, 'node_modules', 'luasfu'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('packs the entry file, its types, the worker, the scripts and the install step', () => {
    const packed = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    expect(packed.status, packed.stderr).to.equal(0);
    const files = (JSON.parse(packed.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
    for (const wanted of [
      'package.json', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/luasfu.js', 'dist/src/cli.js',
      'dist/workers/script-worker.js', 'lua/echotest.lua', 'lua/videoroom.lua', 'proto/bridge.proto',
      'scripts/install.mjs', 'examples/http-ws-service.ts', 'examples/plugin-object.ts',
      // The config's JSON Schema: parseConfig reads it at run time; the deployment kit.
      'config.schema.json', 'examples/luasfu.production.json', 'deploy/luasfu.service', 'deploy/Dockerfile',
    ]) {
      expect(files, wanted).to.include(wanted);
    }
    expect(files.filter((path) => path.startsWith('dist/test/') || path.startsWith('test/') || path.startsWith('node_modules/'))).to.deep.equal([]);
    // Every command the package installs is in it, and so are the --demos pages.
    const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    for (const target of Object.values(bin)) expect(files, `bin ${target}`).to.include(target.replace(/^\.\//, ''));
    expect(files).to.include('demos/echotest.html');
  });

  it('imports from ESM and requires from CommonJS through exports, with the default script inside the package', () => {
    writeFileSync(join(dir, 'esm.mjs'), [
      "import { createServer, JANUS_PROTOCOL } from 'luasfu';",
      'const sfu = createServer();',
      'console.log(JSON.stringify({ createServer: typeof createServer, script: sfu.config.scripts[0].path, protocol: JANUS_PROTOCOL }));',
    ].join('\n'));
    writeFileSync(join(dir, 'cjs.cjs'), [
      "const { createServer, startLuasfu, TransportAdapter } = require('luasfu');",
      "const sfu = createServer({ scripts: [], http: false });",
      'console.log(JSON.stringify({ createServer: typeof createServer, startLuasfu: typeof startLuasfu, adapter: typeof TransportAdapter, http: sfu.config.http.enabled }));',
    ].join('\n'));
    writeFileSync(join(dir, 'deep.cjs'), "try { require('luasfu/dist/src/config.js'); console.log('reachable'); } catch (error) { console.log(error.code); }");

    const esm = run(process.execPath, ['esm.mjs'], dir);
    expect(esm.status, esm.stderr).to.equal(0);
    expect(JSON.parse(esm.stdout)).to.deep.equal({ createServer: 'function', script: join(ROOT, 'lua', 'echotest.lua'), protocol: 'janus-protocol' });
    const cjs = run(process.execPath, ['cjs.cjs'], dir);
    expect(cjs.status, cjs.stderr).to.equal(0);
    expect(JSON.parse(cjs.stdout)).to.deep.equal({ createServer: 'function', startLuasfu: 'function', adapter: 'function', http: false });
    const deep = run(process.execPath, ['deep.cjs'], dir);
    expect(deep.stdout.trim()).to.equal('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('gives TypeScript the types through exports, and checks the options at compile time', () => {
    writeFileSync(join(dir, 'app.mts'), [
      "import { createServer, type LuasfuOptions, type HandleEvent } from 'luasfu';",
      "const options: LuasfuOptions = { websocket: { port: 8188 }, http: false, media: { workers: 1 } };",
      'const sfu = createServer(options);',
      "sfu.on('handle', (event: HandleEvent) => console.log(event.handleId, event.name));",
      "// @ts-expect-error a port is a number",
      "createServer({ websocket: { port: 'x' } });",
      "// @ts-expect-error no such setting",
      'createServer({ websockets: {} });',
      "// @ts-expect-error no such event",
      "sfu.on('nothing', () => undefined);",
    ].join('\n'));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = run(process.execPath, [
      tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck',
      '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', 'app.mts',
    ], dir);
    expect(checked.status, checked.stdout + checked.stderr).to.equal(0);
  });
});
