// The layers point one way (docs/architecture.md, "Layers"), read from the source tree: every
// relative import of every .ts file is resolved to the folder it lands in and checked against
// what that folder may depend on.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface Import {
  /** The importing file, relative to the repository. */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** Where a relative specifier lands, relative to the repository; undefined for packages. */
  target?: string;
}

/** Every .ts file under `dir` (relative to the repository), recursively. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(ROOT, relative), { withFileTypes: true })) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts')) out.push(child);
    }
  };
  walk(dir);
  return out;
}

// import/export ... from '...', import '...', import('...'), require('...').
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)'([^']+)'/g;

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: Import[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] as string;
    const target = specifier.startsWith('.') ? path.posix.join(path.posix.dirname(file), specifier) : undefined;
    out.push({ file, specifier, target });
  }
  return out;
}

function importsUnder(dir: string): Import[] {
  return sources(dir).flatMap(importsOf);
}

const under = (target: string | undefined, dir: string): boolean => target !== undefined && (target === dir || target.startsWith(`${dir}/`));
const show = (imports: Import[]): string[] => imports.map((i) => `${i.file}: ${i.specifier}`);

describe('layers', () => {
  it('reads imports: the workers import src/common, src/media imports src/plugin', () => {
    // Guards the checks below against a parser that finds nothing.
    expect(importsUnder('workers').filter((i) => under(i.target, 'src/common'))).to.not.be.empty;
    expect(importsUnder('src/media').filter((i) => under(i.target, 'src/plugin'))).to.not.be.empty;
    expect(importsOf('test/plugin-media-router.test.ts').map((i) => i.target)).to.include('src/janus/core');
  });

  it('src/media imports nothing from src/janus (media never knows Janus codes)', () => {
    expect(show(importsUnder('src/media').filter((i) => under(i.target, 'src/janus')))).to.deep.equal([]);
  });

  it('workers/ imports nothing from src/ but src/common', () => {
    const outside = importsUnder('workers').filter((i) => under(i.target, 'src') && !under(i.target, 'src/common'));
    expect(show(outside)).to.deep.equal([]);
  });

  it('src/janus (the core) imports no media plane, script host or transport: only their contracts', () => {
    const below = importsUnder('src/janus').filter((i) => ['src/media', 'src/script', 'src/transports'].some((dir) => under(i.target, dir)));
    expect(show(below)).to.deep.equal([]);
  });

  it('src/script and src/media (the implementations) import neither the core, a transport nor each other', () => {
    const wrong = [
      ...importsUnder('src/script').filter((i) => ['src/janus', 'src/transports', 'src/media'].some((dir) => under(i.target, dir))),
      ...importsUnder('src/media').filter((i) => ['src/janus', 'src/transports', 'src/script'].some((dir) => under(i.target, dir))),
    ];
    expect(show(wrong)).to.deep.equal([]);
  });

  it('src/plugin (the contracts) imports only itself and src/common', () => {
    const outside = importsUnder('src/plugin').filter((i) => i.target !== undefined && !under(i.target, 'src/plugin') && !under(i.target, 'src/common'));
    expect(show(outside)).to.deep.equal([]);
  });

  it('src/common imports only itself, Node built-ins and npm packages', () => {
    const outside = importsUnder('src/common').filter((i) => i.target !== undefined && !under(i.target, 'src/common'));
    expect(show(outside)).to.deep.equal([]);
  });

  it('bench/, src/ and workers/ (the shipped code) import nothing from test/', () => {
    // dist/test is not in the npm package: an import of it breaks the installed luasfu-bench.
    const intoTests = [...importsUnder('bench'), ...importsUnder('src'), ...importsUnder('workers')].filter((i) => under(i.target, 'test'));
    expect(show(intoTests)).to.deep.equal([]);
  });
});
