// Temporary folders of a test file, removed when its process ends (each test file runs in a
// process of its own), whether its tests passed or not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fink-${prefix}-`));
  made.push(dir);
  return dir;
}
