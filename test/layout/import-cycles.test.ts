// No two files of the product import each other, directly or round a longer circle: a circle makes
// a module that cannot be read, tested or moved without the others (docs/architecture.md, Rooms).
// ESLint's room rule keeps the rooms in order; this keeps the files inside a room in order too. Type
// imports count: a circle of types is still a knot in the structure.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { packageRoot } from '../../src/config/config.ts';

const FOLDERS = ['src', 'bin', 'bench', 'scripts'];
// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`, over several lines.
const SPECIFIERS = [/\b(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Each file of the product (relative to the root) and the files of the product it imports. */
function importGraph(root: string): Map<string, Set<string>> {
  const files = FOLDERS.flatMap((f) => sources(join(root, f)));
  const known = new Set(files);
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set<string>();
    for (const pattern of SPECIFIERS) {
      for (const m of text.matchAll(pattern)) {
        if (!m[1]!.startsWith('.')) continue;
        const target = resolve(dirname(file), m[1]!);
        if (known.has(target)) targets.add(relative(root, target));
      }
    }
    graph.set(relative(root, file), targets);
  }
  return graph;
}

/** The circles of a graph: its strongly connected components of two files or more, and files importing themselves (Tarjan). */
function importCircles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v) === true) circles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

describe('import circles', () => {
  test('no file of src/, bin/, bench/ or scripts/ imports a file that imports it back, directly or round a circle', () => {
    const graph = importGraph(packageRoot());
    assert.ok(graph.size > 50, `only ${graph.size} files found: the walk missed the tree`);
    const circles = importCircles(graph);
    assert.deepEqual(circles, [], `files importing each other:\n${circles.map((c) => `  ${c.join(' <-> ')}`).join('\n')}`);
  });

  test('the finder names the files of a circle of two, a longer circle, and a file importing itself', () => {
    const graph = new Map<string, Set<string>>([
      ['a.ts', new Set(['b.ts'])], ['b.ts', new Set(['a.ts', 'c.ts'])],
      ['c.ts', new Set(['d.ts'])], ['d.ts', new Set(['e.ts'])], ['e.ts', new Set(['c.ts'])],
      ['f.ts', new Set(['f.ts'])], ['g.ts', new Set(['a.ts'])],
    ]);
    assert.deepEqual(importCircles(graph).sort((x, y) => x[0]!.localeCompare(y[0]!)), [['a.ts', 'b.ts'], ['c.ts', 'd.ts', 'e.ts'], ['f.ts']]);
  });

  test('the walk sees type-only and multi-line imports (the circle simulate.ts <-> simulate-lsst.ts was one)', () => {
    const graph = importGraph(packageRoot());
    assert.ok(graph.get(join('bench', 'run.ts'))?.has(join('bench', 'harness.ts')), 'an import over several lines');
    assert.ok(graph.get(join('src', 'sciencedb', 'ztf-schema.ts'))?.has(join('src', 'sciencedb', 'simulation.ts')), 'a type-only import');
  });
});
