import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';

// The import graph of the whole repository, read with regexes: TypeScript 7 has no JS compiler API
// for madge or dependency-cruiser to use. Type-only imports are edges too: they couple the code.

/** Scanned besides each package's src/: the root scripts (not a workspace package). */
const ROOT_SCRIPTS = 'scripts';
const SOURCE_FILE = /\.(ts|mts|mjs|js)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist']);

// ---- reading sources ---------------------------------------------------------------------------

/** A source without comments, each string or template literal replaced by `'#<index>'`. */
interface Skeleton {
  code: string;
  literals: string[];
}

/** A keyword after which `/` starts a regex literal, not a division. */
const KEYWORD_BEFORE_EXPRESSION =
  /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|void|yield|await|delete|new|throw|instanceof)$/;

function skeletonOf(source: string): Skeleton {
  const literals: string[] = [];
  let code = '';
  let i = source.startsWith('#!') ? source.indexOf('\n') : 0;
  while (i >= 0 && i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? source.length : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      code += source.slice(i, stop).replace(/[^\n]/g, ''); // keeps line starts where they were
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      const end = stringEnd(source, i);
      literals.push(source.slice(i + 1, end - 1));
      code += `'#${literals.length - 1}'`;
      i = end;
    } else if (c === '/' && regexMayStart(code)) {
      const end = regexEnd(source, i);
      code += source.slice(i, end);
      i = end;
    } else {
      code += c;
      i++;
    }
  }
  return { code, literals };
}

/** Index just past the string or template literal starting at `start` (nested `${…}` included). */
function stringEnd(source: string, start: number): number {
  const quote = source[start];
  let j = start + 1;
  while (j < source.length) {
    const c = source[j];
    if (c === '\\') j += 2;
    else if (c === quote) return j + 1;
    else if (quote === '`' && c === '$' && source[j + 1] === '{') j = expressionEnd(source, j + 2);
    else j++;
  }
  return source.length;
}

function expressionEnd(source: string, start: number): number {
  let depth = 1;
  let j = start;
  while (j < source.length && depth > 0) {
    const c = source[j];
    if (c === "'" || c === '"' || c === '`') {
      j = stringEnd(source, j);
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    j++;
  }
  return j;
}

function regexMayStart(codeSoFar: string): boolean {
  const before = codeSoFar.trimEnd();
  if (!/[\w$)\]}'"]$/.test(before)) return true;
  return KEYWORD_BEFORE_EXPRESSION.test(before);
}

/** Index just past a regex literal at `start`, or `start + 1` if it is a division after all. */
function regexEnd(source: string, start: number): number {
  let inClass = false;
  for (let j = start + 1; j < source.length; j++) {
    const c = source[j];
    if (c === '\\') j++;
    else if (c === '\n') return start + 1;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      let end = j + 1;
      while (/[a-z]/.test(source[end] ?? '')) end++;
      return end;
    }
  }
  return start + 1;
}

interface ImportSite {
  /** The literal specifier, or the expression text of a dynamic import that is not a literal. */
  specifier: string;
  kind: 'static' | 'dynamic' | 'expression';
  /** The string literals the expression is built from (through one `const` it names, too). */
  expressionLiterals?: string[];
}

const LITERAL = String.raw`'#(\d+)'`;
const STATIC_IMPORT = new RegExp(String.raw`^\s*import\s+(?:type\s+)?[^'";]*?\bfrom\s*${LITERAL}`, 'gm');
const SIDE_EFFECT_IMPORT = new RegExp(String.raw`^\s*import\s*${LITERAL}`, 'gm');
const EXPORT_FROM = new RegExp(
  String.raw`^\s*export\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*${LITERAL}`,
  'gm',
);
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\(/g;

/** Index of the `)` closing a call whose arguments start at `start` (strings are placeholders by now). */
function closingParen(code: string, start: number): number {
  let depth = 1;
  for (let j = start; j < code.length; j++) {
    if (code[j] === '(') depth++;
    else if (code[j] === ')' && --depth === 0) return j;
  }
  return code.length;
}

/** Every import of a source: static, `export … from`, and `import(…)` (literal or not). */
function importsOf(source: string): ImportSite[] {
  const { code, literals } = skeletonOf(source);
  const literal = (index: string | undefined) => literals[Number(index)] ?? '';
  const sites: ImportSite[] = [];
  for (const pattern of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, EXPORT_FROM]) {
    for (const match of code.matchAll(pattern)) sites.push({ specifier: literal(match[1]), kind: 'static' });
  }
  for (const match of code.matchAll(DYNAMIC_IMPORT)) {
    const start = (match.index ?? 0) + match[0].length;
    const argument = code.slice(start, closingParen(code, start)).trim();
    const single = new RegExp(`^${LITERAL}$`).exec(argument);
    if (single && !literal(single[1]).includes('${')) {
      sites.push({ specifier: literal(single[1]), kind: 'dynamic' });
      continue;
    }
    // `import(entry)`: what `entry` was built from, if it is a const of this file.
    const named = /^[\w$]+$/.test(argument)
      ? new RegExp(String.raw`\b(?:const|let|var)\s+${argument.replace(/\$/g, '\\$')}\s*=\s*([^;]+);`).exec(code)?.[1]
      : undefined;
    const expressionLiterals = [...`${argument} ${named ?? ''}`.matchAll(new RegExp(LITERAL, 'g'))].map((m) =>
      literal(m[1]),
    );
    const readable = argument.replace(new RegExp(LITERAL, 'g'), (_, index: string) => `'${literal(index)}'`);
    sites.push({ specifier: readable, kind: 'expression', expressionLiterals });
  }
  return sites;
}

/** A literal that names a `dist/` folder: in a path (`…/dist/…`) or as a `join(…, 'dist', …)` part. */
const reachesIntoDist = (text: string) => /(^|\/)dist(\/|$)/.test(text);

// ---- the repository's graph --------------------------------------------------------------------

interface WorkspacePackage {
  name: string;
  dir: string;
  /** package.json `exports`, subpath → target. */
  exports: Record<string, unknown>;
}

interface Edge {
  from: string;
  /** A repository file, or `@pkg:<dir>` when only the package is known. */
  to: string;
  specifier: string;
}

const toRepoPath = (path: string) => relative(repoRoot, path).split(sep).join('/');

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : sourceFiles(join(dir, entry.name));
    return SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [join(dir, entry.name)] : [];
  });
}

/** The `packages:` globs of pnpm-workspace.yaml (`packages/*`, `e2e`, …). */
function workspaceGlobs(): string[] {
  const yaml = readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
  const list = /^packages:\n((?:[ \t]+-.*\n?)+)/m.exec(yaml)?.[1] ?? '';
  return [...list.matchAll(/-\s*['"]?([^'"\s]+)/g)].map((match) => match[1] as string);
}

function workspacePackages(): WorkspacePackage[] {
  return workspaceGlobs()
    .flatMap((pattern) =>
      pattern.endsWith('/*')
        ? readdirSync(join(repoRoot, pattern.slice(0, -2))).map((name) => `${pattern.slice(0, -2)}/${name}`)
        : [pattern],
    )
    .filter((dir) => existsSync(join(repoRoot, dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8'));
      const exports = typeof manifest.exports === 'object' ? manifest.exports : { '.': manifest.main ?? '' };
      return { name: manifest.name as string, dir, exports };
    });
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/** The source file of a relative specifier (`./x.js` is `./x.ts` before the build). */
function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    join(base, 'index.ts'),
    join(base, 'index.js'),
  ];
  return candidates.find(isFile);
}

/** The source file a workspace import lands on: its export target, mapped from dist/ back to src/. */
function resolveWorkspace(pkg: WorkspacePackage, subpath: string): string {
  const entry = pkg.exports[subpath === '' ? '.' : `.${subpath}`];
  const target = typeof entry === 'string' ? entry : ((entry as Record<string, string> | undefined)?.default ?? '');
  const source = join(repoRoot, pkg.dir, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
  return isFile(source) ? toRepoPath(source) : `@pkg:${pkg.dir}`;
}

interface RepoGraph {
  files: string[];
  edges: Edge[];
  packages: WorkspacePackage[];
  /** Imports that reach into a dist/ folder, by file. */
  distImports: { file: string; specifier: string }[];
  unresolved: { file: string; specifier: string }[];
}

function readRepoGraph(): RepoGraph {
  const packages = workspacePackages();
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const roots = [...packages.map((pkg) => join(pkg.dir, 'src')), ROOT_SCRIPTS];
  const files = roots.flatMap((root) => sourceFiles(join(repoRoot, root))).map(toRepoPath);
  const graph: RepoGraph = { files, edges: [], packages, distImports: [], unresolved: [] };
  for (const file of files) {
    for (const site of importsOf(readFileSync(join(repoRoot, file), 'utf8'))) {
      const { specifier } = site;
      const viaDist =
        site.kind === 'expression' ? (site.expressionLiterals ?? []).some(reachesIntoDist) : reachesIntoDist(specifier);
      if (viaDist) graph.distImports.push({ file, specifier });
      if (site.kind === 'expression') continue;
      if (specifier.startsWith('.')) {
        const target = resolveRelative(join(repoRoot, file), specifier);
        if (target) graph.edges.push({ from: file, to: toRepoPath(target), specifier });
        else graph.unresolved.push({ file, specifier });
        continue;
      }
      const [, name, subpath] = /^(@[^/]+\/[^/]+|[^/]+)(.*)$/.exec(specifier) ?? [];
      const pkg = byName.get(name ?? '');
      if (pkg) graph.edges.push({ from: file, to: resolveWorkspace(pkg, subpath ?? ''), specifier });
    }
  }
  return graph;
}

/** The workspace package folder a file (or `@pkg:` target) belongs to; `scripts` for the root scripts. */
function packageOf(graph: RepoGraph, path: string): string {
  if (path.startsWith('@pkg:')) return path.slice('@pkg:'.length);
  return graph.packages.find((pkg) => path.startsWith(`${pkg.dir}/`))?.dir ?? ROOT_SCRIPTS;
}

/** Groups of nodes that reach each other (Tarjan): the cycles, one group per tangle. */
function stronglyConnected(edges: readonly { from: string; to: string }[]): string[][] {
  const next = successors(edges);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.size - 1);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) visit(to);
      if (onStack.has(to)) low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || next.get(node)?.includes(node)) components.push(component);
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return components;
}

function successors(edges: readonly { from: string; to: string }[]): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  return next;
}

/** One concrete cycle through a tangle, shortest first found: `a -> b -> a`. */
function cycleThrough(component: string[], edges: readonly { from: string; to: string }[]): string {
  const next = successors(edges);
  const members = new Set(component);
  const start = [...component].sort()[0] as string;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const to of next.get(node) ?? []) {
      if (to === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
        return [...path, start].join(' -> ');
      }
      if (members.has(to) && !cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return component.join(' <-> ');
}

const describeEdge = (edge: Edge) => `${edge.from} -> ${edge.to} ('${edge.specifier}')`;
const isTestFile = (file: string) => /\.test\.[mc]?[jt]s$/.test(file);

const graph = readRepoGraph();
const fileEdges = graph.edges.filter((edge) => !edge.to.startsWith('@pkg:'));

describe('the import graph of the repository', () => {
  it('reads every source file and resolves every relative import', () => {
    const dirs = ['packages/shared', 'packages/test-support', 'services/gateway', 'e2e', 'bench', 'deploy'];
    expect(graph.packages.map((pkg) => pkg.dir)).toEqual(expect.arrayContaining(dirs));
    for (const dir of dirs) expect(graph.files.some((file) => file.startsWith(`${dir}/src/`))).toBe(true);
    expect(graph.files).toContain('scripts/start.mjs');
    expect(graph.files.filter((file) => file.includes('/dist/') || file.includes('node_modules'))).toEqual([]);
    expect(graph.edges.length).toBeGreaterThan(graph.files.length);
    expect(graph.unresolved.map(({ file, specifier }) => `${file}: '${specifier}'`)).toEqual([]);
  });

  it('has no cycle among files', () => {
    const cycles = stronglyConnected(fileEdges).map((component) => {
      const cycle = cycleThrough(component, fileEdges);
      return component.length > 2 ? `${cycle} (one of the cycles among ${component.length} files)` : cycle;
    });
    expect(cycles).toEqual([]);
  });

  it('has no cycle among workspace packages', () => {
    const crossing = graph.edges
      .map((edge) => ({ ...edge, fromPackage: packageOf(graph, edge.from), toPackage: packageOf(graph, edge.to) }))
      .filter((edge) => edge.fromPackage !== edge.toPackage);
    const packageEdges = crossing.map((edge) => ({ from: edge.fromPackage, to: edge.toPackage }));
    const cycles = stronglyConnected(packageEdges).map((component) => {
      const cycle = cycleThrough(component, packageEdges);
      // An import that makes each step, to know where to cut.
      const steps = cycle.split(' -> ').flatMap((from, i, all) => {
        const example = crossing.find((edge) => edge.fromPackage === from && edge.toPackage === all[i + 1]);
        return example ? [describeEdge(example)] : [];
      });
      return `${cycle}: ${steps.join('; ')}`;
    });
    expect(cycles).toEqual([]);
  });

  it('keeps services apart: no service imports another service', () => {
    const serviceOf = (path: string) => /^(?:@pkg:)?(services\/[^/]+)/.exec(path)?.[1];
    const crossing = graph.edges.filter((edge) => {
      const from = serviceOf(edge.from);
      const to = serviceOf(edge.to);
      return from !== undefined && to !== undefined && from !== to;
    });
    expect(crossing.map(describeEdge)).toEqual([]);
  });

  it('keeps packages/shared free of services, and of test-support outside its tests', () => {
    const forbidden = graph.edges.filter(
      (edge) =>
        edge.from.startsWith('packages/shared/') &&
        !isTestFile(edge.from) &&
        ['services', 'packages/test-support'].some((dir) => packageOf(graph, edge.to).startsWith(dir)),
    );
    expect(forbidden.map(describeEdge)).toEqual([]);
  });

  it("never imports from a dist/ folder (another package's build output)", () => {
    expect(graph.distImports.map(({ file, specifier }) => `${file}: import(${specifier})`)).toEqual([]);
  });
});

describe('the import reader', () => {
  const specifiers = (source: string) => importsOf(source).map((site) => `${site.kind} ${site.specifier}`);

  it('reads static, type-only, re-exporting and side-effect imports, over several lines', () => {
    const source = [
      "import {\n  a,\n  type B,\n} from './a.js';",
      "import type { C } from '../c.js';",
      "import d, * as e from 'node:fs';",
      "export * from './f.js';",
      "export type { G } from './g.js';",
      "import './h.js';",
      'export const i = 1;',
    ].join('\n');
    expect(specifiers(source)).toEqual([
      'static ./a.js',
      'static ../c.js',
      'static node:fs',
      'static ./h.js',
      'static ./f.js',
      'static ./g.js',
    ]);
  });

  it('reads dynamic imports, literal or not, and ignores comments, strings and regexes', () => {
    const source = [
      '#!/usr/bin/env node',
      "// import { x } from './commented.js';",
      "/* await import('./commented.js') */",
      'const text = "import { y } from \'./in-a-string.js\'";',
      "const quote = /[\"']/u; const half = total / 2; // import('./after-a-regex.js')",
      "type Response = import('node:http').ServerResponse;",
      "const { Edge } = await import(join(root, 'services/tts-worker/dist/speech/edge.js'));",
      "const entry = join(root, 'services', name, 'dist', 'main.js');",
      'await import(entry);',
      'const page = await import(`./pages/${name}.js`);',
    ].join('\n');
    const sites = importsOf(source);
    expect(sites.map((site) => `${site.kind} ${site.specifier}`)).toEqual([
      'dynamic node:http',
      "expression join(root, 'services/tts-worker/dist/speech/edge.js')",
      'expression entry',
      "expression './pages/${name}.js'",
    ]);
    expect(sites.map((site) => (site.expressionLiterals ?? []).some(reachesIntoDist))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  it('finds a cycle and names its steps', () => {
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'c', to: 'd' },
      { from: 'e', to: 'e' },
    ];
    expect(stronglyConnected(edges).map((component) => cycleThrough(component, edges))).toEqual([
      'a -> b -> c -> a',
      'e -> e',
    ]);
  });
});
