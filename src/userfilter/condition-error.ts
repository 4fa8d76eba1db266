// The one error of the condition language: what is wrong, at which column, and the text around that
// column with a mark, all on one line (a condition may hold newlines, control characters or a
// megabyte of text: what is printed is escaped and cut to a window round the place).
import { FinkError } from '../errors.ts';
import { printable } from '../printable.ts';

/** Characters of the condition shown on each side of the place of an error. */
const WINDOW = 30;

/** The condition round `column` (1-based), escaped, cut, with `{here}` at the place (braces are not
 * part of the language, so the mark cannot be taken for an operator). */
export function excerpt(text: string, column: number): string {
  const at = Math.max(0, Math.min(text.length, column - 1));
  const from = Math.max(0, at - WINDOW);
  const to = Math.min(text.length, at + WINDOW);
  const before = (from > 0 ? '…' : '') + printable(text.slice(from, at));
  const after = printable(text.slice(at, to)) + (to < text.length ? '…' : '');
  return `${before}{here}${after}`;
}

/**
 * A condition refused before anything is evaluated: exit 2, as a wrong flag (the user fixes the
 * text), with a code of its own so that `fink filter add` and its callers can tell it apart.
 */
export class ConditionError extends FinkError {
  /** 1-based column of the place (0: the condition as a whole). */
  readonly column: number;
  readonly reason: string;
  constructor(reason: string, text = '', column = 0) {
    const where = column > 0 ? ` at column ${column} (${excerpt(text, column)})` : '';
    super(`condition${where}: ${printable(reason)}`, { exitCode: 2, code: 'FINK_CONDITION' });
    this.name = 'ConditionError';
    this.reason = reason;
    this.column = column;
  }
}
