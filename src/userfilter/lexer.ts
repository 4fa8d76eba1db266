// The words of a condition: numbers, 'strings' ('' is a quote inside one), names, keywords and
// operators, each with the column it starts at, so that every later error can point at it. Any
// other character (`;`, `.`, `"`, a backquote, a bracket) is refused where it stands: the language
// has no statements, no paths into an object and no quoted names, so text such as
// `1=1; DROP TABLE alerts` or `alert.constructor` ends here.
import { ConditionError } from './condition-error.ts';
import { MAX_CONDITION_LENGTH, MAX_NAME_LENGTH } from './limits.ts';

export type Token =
  | { kind: 'number'; value: number; text: string; column: number }
  | { kind: 'string'; value: string; column: number }
  /** A name or a keyword; `upper` is how keywords are matched (they are case-insensitive). */
  | { kind: 'name'; text: string; upper: string; column: number }
  | { kind: 'op'; text: string; column: number }
  | { kind: 'end'; column: number };

const OPERATORS = ['<>', '!=', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ','];
const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const SPACE = /\s/;

/** Why a character cannot start a word, said in the user's terms where a mistake is likely. */
function stray(ch: string): string {
  if (ch === ';') return "';' is not part of a condition (one condition, no statements)";
  if (ch === '.') return "'.' is not part of a condition (names are the fields of `fink filter fields`, not paths)";
  if (ch === '"' || ch === '`') return `${ch} is not a quote here: strings take single quotes ('SN')`;
  return `unexpected character '${ch}'`;
}

function readString(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    const close = text.indexOf("'", i);
    if (close < 0) throw new ConditionError('a string is not closed (a quote inside one is written twice: \'it\'\'s\')', text, start + 1);
    value += text.slice(i, close);
    if (text[close + 1] !== "'") return { value, end: close + 1 };
    value += "'";
    i = close + 2;
  }
}

function readNumber(text: string, start: number): { token: Token; end: number } {
  const match = NUMBER.exec(text.slice(start, start + 400))!;
  const end = start + match[0].length;
  if (end < text.length && NAME_PART.test(text[end]!)) throw new ConditionError(`'${text.slice(start, end + 1)}' is not a number`, text, start + 1);
  const value = Number(match[0]);
  if (!Number.isFinite(value)) throw new ConditionError(`${match[0]} is out of range`, text, start + 1);
  return { token: { kind: 'number', value, text: match[0], column: start + 1 }, end };
}

/** The words of a condition, ending with an `end` token; ConditionError at the first that is not one. */
export function tokenize(text: string): Token[] {
  if (text.length > MAX_CONDITION_LENGTH) throw new ConditionError(`the condition is ${text.length} characters long, at most ${MAX_CONDITION_LENGTH}`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (SPACE.test(ch)) {
      i++;
    } else if (ch === "'") {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'string', value, column: i + 1 });
      i = end;
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const { token, end } = readNumber(text, i);
      tokens.push(token);
      i = end;
    } else if (NAME_START.test(ch)) {
      let end = i + 1;
      while (end < text.length && NAME_PART.test(text[end]!)) end++;
      if (end - i > MAX_NAME_LENGTH) throw new ConditionError(`a name is ${end - i} characters long, at most ${MAX_NAME_LENGTH}`, text, i + 1);
      const word = text.slice(i, end);
      tokens.push({ kind: 'name', text: word, upper: word.toUpperCase(), column: i + 1 });
      i = end;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      // The whole character, not half of a surrogate pair, is named.
      if (op === undefined) throw new ConditionError(stray(String.fromCodePoint(text.codePointAt(i)!)), text, i + 1);
      tokens.push({ kind: 'op', text: op, column: i + 1 });
      i += op.length;
    }
  }
  tokens.push({ kind: 'end', column: text.length + 1 });
  return tokens;
}
