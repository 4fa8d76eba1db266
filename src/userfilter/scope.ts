// What the names of a condition can stand for, for one survey: the survey's fields (catalogue.ts)
// and the shipped science filters as yes/no predicates. Held in Maps keyed by the lower-cased name,
// never in plain objects: a name such as `constructor` or `__proto__` must find nothing.
import type { Survey } from '../alert/survey.ts';
import { surveyFields, type FieldInfo } from './catalogue.ts';

/**
 * A shipped filter as a condition sees it: its name, survey and the test itself. The caller loads
 * the filter modules (the distribution's loader) and hands them in, so that this room does not
 * depend on the distribution, which will one day evaluate user conditions itself.
 */
export interface Predicate {
  name: string;
  survey: Survey;
  description: string;
  /** The module's filter over the survey's typed fields. */
  test: (fields: never) => boolean;
}

export interface Scope {
  survey: Survey;
  fields: ReadonlyMap<string, FieldInfo>;
  predicates: ReadonlyMap<string, Predicate>;
  /** Names of the other surveys (field or filter) -> their survey: a better error than "unknown". */
  elsewhere: ReadonlyMap<string, Survey>;
}

export function scopeOf(survey: Survey, predicates: readonly Predicate[]): Scope {
  const fields = new Map(surveyFields(survey).map((f) => [f.name.toLowerCase(), f]));
  const own = new Map<string, Predicate>();
  const elsewhere = new Map<string, Survey>();
  for (const p of predicates) {
    const key = p.name.toLowerCase();
    // A field keeps its name: a filter module named like a field is reached only as the field.
    if (p.survey === survey && !fields.has(key)) own.set(key, p);
    else if (p.survey !== survey) elsewhere.set(key, p.survey);
  }
  for (const other of (['ztf', 'lsst'] as const).filter((s) => s !== survey)) {
    for (const f of surveyFields(other)) if (!fields.has(f.name.toLowerCase())) elsewhere.set(f.name.toLowerCase(), other);
  }
  return { survey, fields, predicates: own, elsewhere };
}
