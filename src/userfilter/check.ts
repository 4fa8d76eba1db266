// The types of a parsed condition, found before anything runs: every name resolved (a field of the
// survey or a shipped filter), every operator given operands it takes, and the whole a test (a
// boolean). A string compared to a number, an unknown name, a function given the wrong number of
// arguments, all end here with the column of the word at fault.
import type { Node } from './ast.ts';
import type { FieldInfo, ValueType } from './catalogue.ts';
import { ConditionError } from './condition-error.ts';
import { FUNCTIONS } from './functions.ts';
import type { Predicate, Scope } from './scope.ts';
import { nearest } from './suggest.ts';

/** A value's type; 'null' is the type of the NULL literal, which goes with any other. */
export type Type = ValueType | 'null';

export type Ref = { kind: 'field'; field: FieldInfo } | { kind: 'predicate'; predicate: Predicate };

export interface Checked {
  root: Node;
  types: ReadonlyMap<Node, Type>;
  /** What each name node stands for. */
  refs: ReadonlyMap<Node, Ref>;
}

const ARTICLE: Record<Type, string> = { number: 'a number', string: 'a string', boolean: 'a test (true or false)', id: 'an id', null: 'NULL' };

/** An integer literal, which is how an id is written in a condition (exact, never through a double). */
export function isWholeLiteral(node: Node): boolean {
  return node.kind === 'number' && /^\d+$/.test(node.text);
}

class Checker {
  readonly types = new Map<Node, Type>();
  readonly refs = new Map<Node, Ref>();
  readonly #text: string;
  readonly #scope: Scope;

  constructor(text: string, scope: Scope) {
    this.#text = text;
    this.#scope = scope;
  }

  fail(reason: string, node: Node): never {
    throw new ConditionError(reason, this.#text, node.column);
  }

  type(node: Node): Type {
    const type = this.#typeOf(node);
    this.types.set(node, type);
    return type;
  }

  #typeOf(node: Node): Type {
    switch (node.kind) {
      case 'number': return 'number';
      case 'string': return 'string';
      case 'boolean': return 'boolean';
      case 'null': return 'null';
      case 'name': return this.#name(node);
      case 'call': return this.#call(node);
      case 'negate': this.#numeric(node.operand, "'-'"); return 'number';
      case 'arith':
        this.#numeric(node.left, `'${node.op}'`);
        this.#numeric(node.right, `'${node.op}'`);
        return 'number';
      case 'compare':
        for (const side of [node.left, node.right]) if (side.kind === 'null') this.fail(`'${node.op} NULL' is never true: write IS ${node.op === '=' ? '' : 'NOT '}NULL`, node);
        this.#comparable(node, [node.left, node.right]);
        return 'boolean';
      case 'between': this.#comparable(node, [node.value, node.low, node.high]); return 'boolean';
      case 'in': this.#comparable(node, [node.value, ...node.list]); return 'boolean';
      case 'like':
        for (const side of [node.value, node.pattern]) {
          const t = this.type(side);
          if (t !== 'string' && t !== 'null') this.fail(`LIKE matches strings, got ${ARTICLE[t]}`, side);
        }
        return 'boolean';
      case 'isnull': this.type(node.value); return 'boolean';
      case 'not': this.#test(node.operand, 'NOT'); return 'boolean';
      case 'logic':
        this.#test(node.left, node.op);
        this.#test(node.right, node.op);
        return 'boolean';
    }
  }

  #name(node: Node & { kind: 'name' }): Type {
    const key = node.name.toLowerCase();
    const field = this.#scope.fields.get(key);
    if (field !== undefined) {
      this.refs.set(node, { kind: 'field', field });
      return field.type;
    }
    const predicate = this.#scope.predicates.get(key);
    if (predicate !== undefined) {
      this.refs.set(node, { kind: 'predicate', predicate });
      return 'boolean';
    }
    const other = this.#scope.elsewhere.get(key);
    if (other !== undefined) this.fail(`'${node.name}' is a name of ${other} alerts, and this condition is for ${this.#scope.survey} alerts`, node);
    if (FUNCTIONS.has(key)) this.fail(`${key} is a function: ${key}(...)`, node);
    const guess = nearest(node.name, [...[...this.#scope.fields.values()].map((f) => f.name), ...[...this.#scope.predicates.values()].map((p) => p.name)]);
    this.fail(`unknown name '${node.name}'${guess === undefined ? '' : ` (did you mean '${guess}'?)`}; \`fink filter fields --survey ${this.#scope.survey}\` lists them`, node);
  }

  #call(node: Node & { kind: 'call' }): Type {
    const key = node.name.toLowerCase();
    const spec = FUNCTIONS.get(key);
    if (spec === undefined) {
      if (this.#scope.fields.has(key) || this.#scope.predicates.has(key)) this.fail(`'${node.name}' is a name, not a function: write it without (...)`, node);
      const guess = nearest(node.name, FUNCTIONS.keys());
      this.fail(`unknown function '${node.name}'${guess === undefined ? '' : ` (did you mean '${guess}'?)`}; functions: ${[...FUNCTIONS.keys()].join(', ')}`, node);
    }
    if (node.args.length < spec.min || node.args.length > spec.max) {
      const wanted = spec.min === spec.max ? `${spec.min}` : `at least ${spec.min}`;
      this.fail(`${key} takes ${wanted} argument${spec.min === 1 && spec.max === 1 ? '' : 's'}, got ${node.args.length}`, node);
    }
    if (spec.args === 'number') {
      for (const arg of node.args) this.#numeric(arg, key);
      return 'number';
    }
    let type: Type = 'null';
    for (const arg of node.args) {
      const t = this.type(arg);
      if (t === 'id') this.fail(`${key} does not take ids`, arg);
      if (t !== 'null' && type !== 'null' && t !== type) this.fail(`${key} takes arguments of one type: ${ARTICLE[type]} and ${ARTICLE[t]}`, arg);
      if (t !== 'null') type = t;
    }
    return type;
  }

  #numeric(node: Node, what: string): void {
    const t = this.type(node);
    if (t === 'id') this.fail(`${what} does not compute with ids (64-bit identifiers): compare them with = or IN`, node);
    if (t !== 'number' && t !== 'null') this.fail(`${what} takes numbers, got ${ARTICLE[t]}`, node);
  }

  #test(node: Node, what: string): void {
    const t = this.type(node);
    if (t !== 'boolean' && t !== 'null') this.fail(`${what} takes tests (true or false), got ${ARTICLE[t]}: compare it with something`, node);
  }

  /** Operands of one comparison: one type (NULL goes with any); an id only with ids and whole-number literals. */
  #comparable(at: Node, operands: readonly Node[]): void {
    const types = operands.map((o) => this.type(o));
    const id = types.includes('id');
    let first: { type: Type; node: Node } | undefined;
    operands.forEach((operand, i) => {
      let type = types[i]!;
      if (type === 'null') return;
      if (id && type === 'number') {
        if (!isWholeLiteral(operand)) this.fail('an id compares only with ids and whole numbers written out (candid = 1234567890123456789)', operand);
        type = 'id';
      }
      if (first === undefined) first = { type, node: operand };
      else if (first.type !== type) this.fail(`cannot compare ${ARTICLE[first.type]} with ${ARTICLE[type]}`, at);
    });
  }
}

/** The condition's tree typed and its names resolved; ConditionError at the first fault. */
export function checkCondition(text: string, root: Node, scope: Scope): Checked {
  const checker = new Checker(text, scope);
  const type = checker.type(root);
  if (type !== 'boolean') checker.fail(`the condition is ${ARTICLE[type]}, not a test: compare it with something (magpsf < 18)`, root);
  return { root, types: checker.types, refs: checker.refs };
}
