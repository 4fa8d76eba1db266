// A user's condition, from its text to a test over an alert's typed fields: read (parser.ts), typed
// (check.ts), turned into closures (compile.ts). Everything that can be wrong with the text is found
// here, once, as a ConditionError; the test itself never throws: an alert for which it would (a
// shipped filter that fails, say) is an alert it does not match, and the caller hears of it.
import type { AlertFields } from '../alert/fields.ts';
import type { LsstFields } from '../alert/lsst-fields.ts';
import type { Survey } from '../alert/survey.ts';
import type { Node } from './ast.ts';
import { checkCondition, type Ref } from './check.ts';
import { compileChecked, guardOf } from './compile.ts';
import { parseCondition } from './parser.ts';
import { rowOf, type Row } from './row.ts';
import { scopeOf, type Predicate } from './scope.ts';

export interface ConditionOptions {
  /** The shipped filters that a condition may name (those of other surveys give a clearer error). */
  predicates?: readonly Predicate[];
  /** Called with what a test threw for an alert (the alert then does not match). */
  onError?: (err: unknown) => void;
}

export interface Condition {
  readonly text: string;
  readonly survey: Survey;
  /** The field names and filters it reads, as the catalogue spells them, once each. */
  readonly names: readonly string[];
  /** True only when the condition is TRUE for the alert (FALSE and NULL do not match); never throws. */
  test(fields: Readonly<AlertFields> | Readonly<LsstFields>): boolean;
  /** The same on the alert's row (row.ts `rowOf`), built once for all the conditions of its survey. */
  testRow(row: Row): boolean;
}

function namesRead(refs: ReadonlyMap<Node, Ref>): string[] {
  return [...new Set([...refs.values()].map((ref) => (ref.kind === 'field' ? ref.field.name : ref.predicate.name)))];
}

/** The condition compiled for the survey's alerts; ConditionError (exit 2) if the text is not a valid condition. */
export function compileCondition(text: string, survey: Survey, options: ConditionOptions = {}): Condition {
  const checked = checkCondition(text, parseCondition(text), scopeOf(survey, options.predicates ?? []));
  const evaluate = compileChecked(checked, survey);
  const onError = options.onError;
  // Without a range, one that every number passes: one shape of test for every condition.
  const { at, low, high, lowOpen, highOpen } = guardOf(checked, survey) ?? { at: -1, low: -Infinity, high: Infinity, lowOpen: false, highOpen: false };
  const testRow = (row: Row): boolean => {
    if (at >= 0) {
      // The guard's field outside its range: the first conjunct is FALSE, and so is the condition
      // (NULL is left to the tree, which goes on to the other conjuncts as before).
      const v = row[at];
      if (typeof v === 'number' && (v < low || v > high || (lowOpen && v === low) || (highOpen && v === high))) return false;
    }
    try {
      return evaluate(row) === true;
    } catch (err) {
      onError?.(err);
      return false;
    }
  };
  return { text, survey, names: namesRead(checked.refs), testRow, test: (fields) => testRow(rowOf(survey, fields)) };
}
