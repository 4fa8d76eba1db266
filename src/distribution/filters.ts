// Science filters: TypeScript modules in the filters folder, found automatically. Each module
// exports `description` (one line), `filter(alert)` (true: the alert goes to the module's topic),
// for a topic that leaves fields out (a light stream) `dropFields`, and for a survey other than
// ZTF `survey` ('lsst'): a filter sees its survey's fields, and only its survey's alerts.
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FinkError } from '../errors.ts';
import { listFolder } from '../files.ts';
import type { AlertFields } from '../alert/fields.ts';
import type { LsstFields } from '../alert/lsst-fields.ts';
import { SURVEYS, type Survey, type SurveyFields } from '../alert/survey.ts';

/** What a filter module exports (`survey` defaults to 'ztf'). */
export interface FilterModule {
  description: string;
  filter: (alert: never) => boolean;
  dropFields?: readonly string[];
  survey?: Survey;
}

interface FilterInfo {
  /** The module's name: the topic is `${SUBSTREAM_PREFIX}${name}_${survey}`. */
  name: string;
  file: string;
  description: string;
  dropFields?: readonly string[];
}

export type Filter = FilterInfo &
  ({ survey: 'ztf'; filter: (alert: Readonly<AlertFields>) => boolean } | { survey: 'lsst'; filter: (alert: Readonly<LsstFields>) => boolean });

/** Whether a filter takes an alert: never one of another survey. May throw (the filter's own error). */
export function accepts(filter: Filter, alert: SurveyFields): boolean {
  if (filter.survey === 'ztf' && alert.survey === 'ztf') return filter.filter(alert.fields) === true;
  if (filter.survey === 'lsst' && alert.survey === 'lsst') return filter.filter(alert.fields) === true;
  return false;
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
    const survey = module.survey ?? 'ztf';
    if (!SURVEYS.includes(survey)) throw new FinkError(`filter ${file}: 'survey' is one of ${SURVEYS.join(', ')}, got '${String(survey)}'`);
    // The module's filter takes its survey's fields: the declared survey is what types it.
    const filter = module.filter as Filter['filter'];
    filters.push({ name, file, description: module.description, dropFields: module.dropFields, survey, filter } as Filter);
  }
  return filters;
}
