// The on-disk schema cache: only a schema that is not there is asked of the registry again.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { test } from 'node:test';
import { silentLogger } from '../../src/log.ts';
import { RegistrySchemaCache, UnknownSchemaError } from '../../src/upstream/schema-cache.ts';
import { tempDir } from '../helpers/temp.ts';

test('a schema not on disk is asked of the registry (none here: an unknown schema)', async () => {
  const cache = new RegistrySchemaCache(undefined, tempDir('schema-cache-absent'), { retries: 0, log: silentLogger });
  await assert.rejects(cache.text(7), UnknownSchemaError);
});

test('a cached schema that cannot be read is an error that says why, not a schema fetched again', async () => {
  const cache = new RegistrySchemaCache(undefined, tempDir('schema-cache-unreadable'), { retries: 0, log: silentLogger });
  // A folder where the file should be: unreadable as a file whoever runs the test (root reads any mode).
  mkdirSync(cache.file(7), { recursive: true });
  await assert.rejects(cache.text(7), (err: NodeJS.ErrnoException) => err.code === 'EISDIR');
});
