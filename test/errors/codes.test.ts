// The closed list of error codes: every error class the product exports carries a code of its own
// from FINK_CODES. The classes are found by importing every module of src/, so that a class added
// or moved later is checked without being listed here.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FINK_CODES, FinkError } from '../../src/errors.ts';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return modules(full);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

type ErrorClass = new (...args: string[]) => FinkError;

async function errorClasses(): Promise<Map<string, ErrorClass>> {
  const found = new Map<string, ErrorClass>();
  for (const file of modules(SRC)) {
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value === 'function' && value.prototype instanceof FinkError) found.set(`${relative(SRC, file)}:${name}`, value as ErrorClass);
    }
  }
  return found;
}

test('every error class exported from src/ has a code of its own from the closed list', async () => {
  const classes = await errorClasses();
  assert.ok(classes.size >= 15, `only ${classes.size} error classes found: is src/ still where this test looks?`);
  for (const [where, ErrorClass] of classes) {
    const err = new ErrorClass('a message', 'a second argument');
    assert.ok((FINK_CODES as readonly string[]).includes(err.code), `${where}: code ${err.code} is not in FINK_CODES`);
    assert.notEqual(err.code, 'FINK_ERROR', `${where} takes the default code: give it its own`);
    assert.equal(err.name, ErrorClass.name, `${where}: its name is its class's`);
  }
});

test('the codes are unique and FINK_ prefixed', () => {
  assert.equal(new Set(FINK_CODES).size, FINK_CODES.length);
  for (const code of FINK_CODES) assert.match(code, /^FINK_[A-Z_]+$/);
});

test('a FinkError without a code takes FINK_ERROR; a number alone is its exit code', () => {
  const err = new FinkError('x', 3);
  assert.equal(err.code, 'FINK_ERROR');
  assert.equal(err.exitCode, 3);
});
