// A condition's text into its tree, by recursive descent over the grammar of SQL's WHERE clause.
// Our own parser rather than a library: the grammar is small (a page of rules below), every error
// must say the exact column and what was expected there, and the limits (depth, list length) must
// hold inside the parser itself, before any recursion can grow; a general SQL parser accepts far
// more than a condition (statements, subqueries, casts) and would have to be fenced off afterwards.
//
//   condition := or END
//   or        := and (OR and)*
//   and       := not (AND not)*
//   not       := NOT not | predicate
//   predicate := sum [ cmp sum | IS [NOT] NULL | [NOT] BETWEEN sum AND sum
//                    | [NOT] IN '(' sum (',' sum)* ')' | [NOT] LIKE sum ]
//   cmp       := '=' | '<>' | '!=' | '<' | '<=' | '>' | '>='
//   sum       := product (('+' | '-') product)*
//   product   := unary (('*' | '/' | '%') unary)*
//   unary     := ('-' | '+') unary | primary
//   primary   := number | string | TRUE | FALSE | NULL | name | name '(' [or (',' or)*] ')' | '(' or ')'
import type { CompareOp, Node } from './ast.ts';
import { ConditionError } from './condition-error.ts';
import { tokenize, type Token } from './lexer.ts';
import { MAX_ARGUMENTS, MAX_DEPTH, MAX_IN_LIST, MAX_OPERATORS } from './limits.ts';

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'IS', 'NULL', 'LIKE', 'TRUE', 'FALSE']);
const COMPARE: Record<string, CompareOp> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function describe(token: Token): string {
  switch (token.kind) {
    case 'end': return 'the end of the condition';
    case 'string': return 'a string';
    case 'number': return `'${token.text}'`;
    default: return `'${token.text}'`;
  }
}

class Parser {
  readonly #text: string;
  readonly #tokens: Token[];
  #at = 0;
  #depth = 0;
  #operators = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  parse(): Node {
    if (this.#peek().kind === 'end') throw new ConditionError('the condition is empty', this.#text, 1);
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== 'end') {
      const hint = next.kind === 'op' && next.text in COMPARE ? ' (comparisons do not chain: join them with AND)' : '';
      throw this.#error(`expected AND, OR or the end of the condition, found ${describe(next)}${hint}`, next);
    }
    return node;
  }

  #error(reason: string, token: Token): ConditionError {
    return new ConditionError(reason, this.#text, token.column);
  }

  #peek(ahead = 0): Token {
    return this.#tokens[Math.min(this.#at + ahead, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'end') this.#at++;
    return token;
  }

  #isKeyword(word: string, ahead = 0): boolean {
    const token = this.#peek(ahead);
    return token.kind === 'name' && token.upper === word;
  }

  #isOp(op: string): boolean {
    const token = this.#peek();
    return token.kind === 'op' && token.text === op;
  }

  #expectOp(op: string, what: string): void {
    if (!this.#isOp(op)) throw this.#error(`expected ${what}, found ${describe(this.#peek())}`, this.#peek());
    this.#next();
  }

  /** Runs a rule one level deeper; past MAX_DEPTH the condition is refused where the level starts. */
  #deeper<T>(token: Token, rule: () => T): T {
    if (++this.#depth > MAX_DEPTH) throw this.#error(`the condition nests deeper than ${MAX_DEPTH} levels`, token);
    try {
      return rule();
    } finally {
      this.#depth--;
    }
  }

  /** Takes the operator token next in line, counting it against MAX_OPERATORS. */
  #operator(): Token {
    this.#countOperator(this.#peek());
    return this.#next();
  }

  #countOperator(token: Token): void {
    if (++this.#operators > MAX_OPERATORS) throw this.#error(`the condition has more than ${MAX_OPERATORS} operators`, token);
  }

  #or(): Node {
    let left = this.#and();
    while (this.#isKeyword('OR')) {
      const op = this.#operator();
      left = { kind: 'logic', op: 'OR', left, right: this.#and(), column: op.column };
    }
    return left;
  }

  #and(): Node {
    let left = this.#not();
    while (this.#isKeyword('AND')) {
      const op = this.#operator();
      left = { kind: 'logic', op: 'AND', left, right: this.#not(), column: op.column };
    }
    return left;
  }

  #not(): Node {
    if (!this.#isKeyword('NOT')) return this.#predicate();
    const token = this.#next();
    return this.#deeper(token, () => ({ kind: 'not', operand: this.#not(), column: token.column }));
  }

  #predicate(): Node {
    const value = this.#sum();
    const token = this.#peek();
    if (token.kind === 'op' && token.text in COMPARE) {
      this.#operator();
      return { kind: 'compare', op: COMPARE[token.text]!, left: value, right: this.#sum(), column: token.column };
    }
    if (this.#isKeyword('IS')) {
      this.#operator();
      const negated = this.#isKeyword('NOT');
      if (negated) this.#next();
      if (!this.#isKeyword('NULL')) throw this.#error(`expected NULL after IS${negated ? ' NOT' : ''}, found ${describe(this.#peek())}`, this.#peek());
      this.#next();
      return { kind: 'isnull', negated, value, column: token.column };
    }
    const negated = this.#isKeyword('NOT') && ['BETWEEN', 'IN', 'LIKE'].some((w) => this.#isKeyword(w, 1));
    if (negated) this.#next();
    if (['BETWEEN', 'IN', 'LIKE'].some((w) => this.#isKeyword(w))) this.#countOperator(this.#peek());
    if (this.#isKeyword('BETWEEN')) return this.#between(value, negated, token);
    if (this.#isKeyword('IN')) return this.#in(value, negated, token);
    if (this.#isKeyword('LIKE')) {
      this.#next();
      return { kind: 'like', negated, value, pattern: this.#sum(), column: token.column };
    }
    return value;
  }

  #between(value: Node, negated: boolean, token: Token): Node {
    this.#next();
    const low = this.#sum();
    if (!this.#isKeyword('AND')) throw this.#error(`expected AND in BETWEEN ... AND ..., found ${describe(this.#peek())}`, this.#peek());
    this.#next();
    return { kind: 'between', negated, value, low, high: this.#sum(), column: token.column };
  }

  #in(value: Node, negated: boolean, token: Token): Node {
    this.#next();
    this.#expectOp('(', "'(' after IN");
    const list: Node[] = [];
    for (;;) {
      if (list.length === MAX_IN_LIST) throw this.#error(`an IN list holds at most ${MAX_IN_LIST} values`, this.#peek());
      list.push(this.#sum());
      if (!this.#isOp(',')) break;
      this.#next();
    }
    this.#expectOp(')', "',' or ')' in the IN list");
    return { kind: 'in', negated, value, list, column: token.column };
  }

  #sum(): Node {
    let left = this.#product();
    for (let t = this.#peek(); t.kind === 'op' && (t.text === '+' || t.text === '-'); t = this.#peek()) {
      this.#operator();
      left = { kind: 'arith', op: t.text, left, right: this.#product(), column: t.column };
    }
    return left;
  }

  #product(): Node {
    let left = this.#unary();
    for (let t = this.#peek(); t.kind === 'op' && (t.text === '*' || t.text === '/' || t.text === '%'); t = this.#peek()) {
      this.#operator();
      left = { kind: 'arith', op: t.text, left, right: this.#unary(), column: t.column };
    }
    return left;
  }

  #unary(): Node {
    const token = this.#peek();
    if (token.kind !== 'op' || (token.text !== '-' && token.text !== '+')) return this.#primary();
    this.#next();
    const operand = this.#deeper(token, () => this.#unary());
    return token.text === '-' ? { kind: 'negate', operand, column: token.column } : operand;
  }

  #primary(): Node {
    const token = this.#next();
    switch (token.kind) {
      case 'number': return { kind: 'number', value: token.value, text: token.text, column: token.column };
      case 'string': return { kind: 'string', value: token.value, column: token.column };
      case 'op':
        if (token.text === '(') {
          const inner = this.#deeper(token, () => this.#or());
          this.#expectOp(')', "')'");
          return inner;
        }
        throw this.#error(`expected a value, a name or '(', found ${describe(token)}`, token);
      case 'end': throw this.#error('the condition ends too soon: expected a value, a name or \'(\'', token);
      default: return this.#word(token);
    }
  }

  #word(token: Token & { kind: 'name' }): Node {
    if (token.upper === 'TRUE' || token.upper === 'FALSE') return { kind: 'boolean', value: token.upper === 'TRUE', column: token.column };
    if (token.upper === 'NULL') return { kind: 'null', column: token.column };
    if (KEYWORDS.has(token.upper)) throw this.#error(`expected a value, a name or '(', found ${token.upper}`, token);
    if (!this.#isOp('(')) return { kind: 'name', name: token.text, column: token.column };
    this.#next();
    const args = this.#deeper(token, () => {
      const list: Node[] = [];
      if (this.#isOp(')')) return list;
      for (;;) {
        if (list.length === MAX_ARGUMENTS) throw this.#error(`a function takes at most ${MAX_ARGUMENTS} arguments`, this.#peek());
        list.push(this.#or());
        if (!this.#isOp(',')) return list;
        this.#next();
      }
    });
    this.#expectOp(')', `',' or ')' after the arguments of ${token.text}`);
    return { kind: 'call', name: token.text, args, column: token.column };
  }
}

/** The tree of a condition; ConditionError (with its column) if it breaks the grammar or a limit. */
export function parseCondition(text: string): Node {
  return new Parser(text).parse();
}
