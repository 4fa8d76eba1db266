// Science filters: TypeScript modules in the filters folder, found automatically. Each module
// exports `description` (one line), `filter(alert)` (true: the alert goes to the module's topic)
// and, for a topic that leaves fields out (a light stream), `dropFields`.
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FinkError } from '../errors.ts';
import { listFolder } from '../files.ts';
import type { AlertFields } from '../alert/fields.ts';

/** What a filter module exports. */
export interface FilterModule {
  description: string;
  filter: (alert: Readonly<AlertFields>) => boolean;
  dropFields?: readonly string[];
}

export interface Filter extends FilterModule {
  /** The module's name: the topic is `${SUBSTREAM_PREFIX}${name}_ztf`. */
  name: string;
  file: string;
}

const MODULE = /^([a-z0-9][a-z0-9_]*)\.(ts|js|mjs)$/;

/** Loads every filter module of a folder; a module that does not follow the contract is named. */
export async function loadFilters(dir: string): Promise<Filter[]> {
  const names = listFolder(dir);
  const files = new Map<string, string>();
  for (const name of names.sort()) {
    const m = MODULE.exec(name);
    if (m === null || name.endsWith('.d.ts')) continue;
    // Built copies (dist/filters/x.js) and sources may sit side by side: one module per name.
    if (!files.has(m[1]!)) files.set(m[1]!, join(dir, name));
  }
  const filters: Filter[] = [];
  for (const [name, file] of files) {
    let module: Partial<FilterModule>;
    try {
      module = (await import(pathToFileURL(file).href)) as Partial<FilterModule>;
    } catch (err) {
      throw new FinkError(`filter ${basename(file)} does not load: ${(err as Error).message}`);
    }
    if (typeof module.filter !== 'function' || typeof module.description !== 'string') {
      throw new FinkError(`filter ${file} must export a function 'filter(alert)' and a string 'description'`);
    }
    if (module.dropFields !== undefined && !(Array.isArray(module.dropFields) && module.dropFields.every((f) => typeof f === 'string'))) {
      throw new FinkError(`filter ${file}: 'dropFields' must be a list of field names`);
    }
    filters.push({ name, file, description: module.description, filter: module.filter, dropFields: module.dropFields });
  }
  return filters;
}
