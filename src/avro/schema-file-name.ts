// Where a schema file of a given version or topic lives: beside the base file named by
// DISTRIBUTION_SCHEMA, with the fingerprint or topic as a suffix. The distribution writes these
// files and consumers look them up, so the naming rule belongs to neither.
import { basename, dirname, extname, join } from 'node:path';

export function schemaFileFor(base: string, suffix: string): string {
  const ext = extname(base) || '.avsc';
  return join(dirname(base), `${basename(base, extname(base))}-${suffix}${ext}`);
}
