// A checked condition into a tree of closures over an alert's typed fields: no text is generated,
// nothing is given to `eval` or `new Function`, and a field is read at its index in the alert's row
// (row.ts), found from the catalogue's name, never from the user's spelling. SQL's three-valued logic throughout: a comparison with NULL is
// NULL (unknown), NOT NULL is NULL, FALSE AND NULL is FALSE, TRUE OR NULL is TRUE, and only TRUE
// matches. The commonest shape, a field against a constant, gets a closure of its own (it is most
// of what real conditions are, and what the per-alert budget is spent on).
import type { CompareOp, Node } from './ast.ts';
import { isWholeLiteral, type Checked, type Type } from './check.ts';
import { finite, FUNCTIONS, type Scalar } from './functions.ts';
import { likeMatcher } from './like.ts';
import { fieldIndex, fieldsSlot, type Row } from './row.ts';
import type { Survey } from '../alert/survey.ts';

/** What a compiled condition reads: an alert's row (row.ts), shared by every condition on that alert. */
export type Eval = (row: Row) => Scalar;

const TESTS: Record<CompareOp, (a: never, b: never) => boolean> = {
  '=': (a, b) => a === b,
  '<>': (a, b) => a !== b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** The operator with its sides swapped: `18 > magpsf` is `magpsf < 18`. */
const FLIPPED: Record<CompareOp, CompareOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/**
 * `field OP constant`, one closure per operator so that the comparison is not looked up per alert.
 * The row already holds NULL for a missing value or a NaN (row.ts).
 */
const FIELD_CONSTANT: Record<CompareOp, (at: number, c: Scalar) => Eval> = {
  '=': (at, c) => (f) => { const v = f[at] as Scalar; return v === null ? null : v === c; },
  '<>': (at, c) => (f) => { const v = f[at] as Scalar; return v === null ? null : v !== c; },
  '<': (at, c) => (f) => { const v = f[at] as Scalar; return v === null ? null : v < c!; },
  '<=': (at, c) => (f) => { const v = f[at] as Scalar; return v === null ? null : v <= c!; },
  '>': (at, c) => (f) => { const v = f[at] as Scalar; return v === null ? null : v > c!; },
  '>=': (at, c) => (f) => { const v = f[at] as Scalar; return v === null ? null : v >= c!; },
};

/**
 * A range that a field must fall in for the whole condition to be TRUE: the first conjunct of the
 * condition's top-level ANDs when it is a field against a number (`=`, `<`, `<=`, `>`, `>=`,
 * BETWEEN). A number outside it makes that conjunct FALSE, and so the AND: the condition does not
 * match, and its tree need not be run. Only the first: the tree runs it first too, and stops there
 * when it is FALSE, so that what the rest would have thrown (a shipped filter named) is seen, and
 * counted, exactly as before. Real conditions mostly start with such a threshold, and most alerts
 * fail it, so that they cost a read and two comparisons per alert.
 */
export interface Guard {
  /** The field's index in the row. */
  at: number;
  low: number;
  high: number;
  /** Whether `low` (`high`) itself is outside (`>` rather than `>=`). */
  lowOpen: boolean;
  highOpen: boolean;
}

const RANGES: Partial<Record<CompareOp, (c: number) => Omit<Guard, 'at'>>> = {
  '=': (c) => ({ low: c, high: c, lowOpen: false, highOpen: false }),
  '<': (c) => ({ low: -Infinity, high: c, lowOpen: false, highOpen: true }),
  '<=': (c) => ({ low: -Infinity, high: c, lowOpen: false, highOpen: false }),
  '>': (c) => ({ low: c, high: Infinity, lowOpen: true, highOpen: false }),
  '>=': (c) => ({ low: c, high: Infinity, lowOpen: false, highOpen: false }),
};

/** The conjuncts of a node's top-level ANDs (the node itself when it is not an AND). */
function conjuncts(node: Node): Node[] {
  return node.kind === 'logic' && node.op === 'AND' ? [...conjuncts(node.left), ...conjuncts(node.right)] : [node];
}

class Compiler {
  readonly #checked: Checked;
  readonly #survey: Survey;

  constructor(checked: Checked, survey: Survey) {
    this.#checked = checked;
    this.#survey = survey;
  }

  #type(node: Node): Type {
    return this.#checked.types.get(node)!;
  }

  /** A literal's value, an integer literal compared with an id read as the exact bigint it names. */
  #constant(node: Node, asId: boolean): Scalar | undefined {
    switch (node.kind) {
      case 'number': return asId && isWholeLiteral(node) ? BigInt(node.text) : node.value;
      case 'string': return node.value;
      case 'boolean': return node.value;
      case 'null': return null;
      // A negative number is written as a minus and a literal: a constant too (`dec < -10`).
      case 'negate': return node.operand.kind === 'number' && !asId ? -node.operand.value : undefined;
      default: return undefined;
    }
  }

  /** The node's value; `asId` when it is compared with an id. */
  value(node: Node, asId = false): Eval {
    const constant = this.#constant(node, asId);
    if (constant !== undefined) return () => constant;
    switch (node.kind) {
      case 'name': return this.#name(node);
      case 'call': return this.#call(node);
      case 'negate': {
        const operand = this.value(node.operand);
        return (f) => { const v = operand(f); return v === null ? null : -(v as number); };
      }
      case 'arith': return this.#arith(node);
      case 'compare': return this.#compare(node);
      case 'between': return this.#between(node);
      case 'in': return this.#in(node);
      case 'like': return this.#like(node);
      case 'isnull': {
        const value = this.value(node.value);
        return node.negated ? (f) => value(f) !== null : (f) => value(f) === null;
      }
      case 'not': {
        const operand = this.value(node.operand);
        return (f) => { const v = operand(f); return v === null ? null : !v; };
      }
      case 'logic': return this.#logic(node);
      default: throw new Error(`no compiler for a ${node.kind} node`);
    }
  }

  #name(node: Node): Eval {
    const ref = this.#checked.refs.get(node)!;
    if (ref.kind === 'predicate') {
      const test = ref.predicate.test as (fields: unknown) => boolean;
      const slot = fieldsSlot(this.#survey);
      return (f) => test(f[slot]) === true;
    }
    const at = fieldIndex(this.#survey, ref.field.name);
    return (f) => f[at] as Scalar;
  }

  #call(node: Node & { kind: 'call' }): Eval {
    const apply = FUNCTIONS.get(node.name.toLowerCase())!.apply;
    const args = node.args.map((a) => this.value(a));
    if (args.length === 1) {
      const [only] = args as [Eval];
      return (f) => apply([only(f)]);
    }
    return (f) => apply(args.map((a) => a(f)));
  }

  #arith(node: Node & { kind: 'arith' }): Eval {
    const left = this.value(node.left);
    const right = this.value(node.right);
    const op = { '+': (a: number, b: number) => a + b, '-': (a: number, b: number) => a - b, '*': (a: number, b: number) => a * b, '/': (a: number, b: number) => a / b, '%': (a: number, b: number) => a % b }[node.op];
    return (f) => {
      const a = left(f);
      if (a === null) return null;
      const b = right(f);
      return b === null ? null : finite(op(a as number, b as number));
    };
  }

  #compare(node: Node & { kind: 'compare' }): Eval {
    const asId = this.#type(node.left) === 'id' || this.#type(node.right) === 'id';
    const ref = (n: Node) => (n.kind === 'name' ? this.#checked.refs.get(n) : undefined);
    for (const [field, other, op] of [[node.left, node.right, node.op], [node.right, node.left, FLIPPED[node.op]]] as const) {
      const r = ref(field);
      const c = this.#constant(other, asId);
      if (r?.kind === 'field' && c !== undefined && c !== null) return FIELD_CONSTANT[op](fieldIndex(this.#survey, r.field.name), c);
    }
    return this.#comparison(node.op, this.value(node.left, asId), this.value(node.right, asId));
  }

  #comparison(op: CompareOp, left: Eval, right: Eval): Eval {
    const test = TESTS[op] as (a: Scalar, b: Scalar) => boolean;
    return (f) => {
      const a = left(f);
      if (a === null) return null;
      const b = right(f);
      return b === null ? null : test(a, b);
    };
  }

  /** The first conjunct's range (Guard), or undefined when it is not a number field against number constants. */
  guard(): Guard | undefined {
    return this.#range(conjuncts(this.#checked.root)[0]!);
  }

  #range(node: Node): Guard | undefined {
    const number = (n: Node) => { const c = this.#constant(n, false); return typeof c === 'number' ? c : undefined; };
    const numberField = (n: Node) => (this.#type(n) === 'number' ? this.#fieldAt(n) : undefined);
    if (node.kind === 'compare') {
      for (const [field, other, op] of [[node.left, node.right, node.op], [node.right, node.left, FLIPPED[node.op]]] as const) {
        const [at, c, range] = [numberField(field), number(other), RANGES[op]];
        if (at !== undefined && c !== undefined && range !== undefined) return { at, ...range(c) };
      }
    }
    if (node.kind === 'between' && !node.negated) {
      const [at, low, high] = [numberField(node.value), number(node.low), number(node.high)];
      if (at !== undefined && low !== undefined && high !== undefined) return { at, low, high, lowOpen: false, highOpen: false };
    }
    return undefined;
  }

  /** The row index of a node that is a field, else undefined. */
  #fieldAt(node: Node): number | undefined {
    const ref = node.kind === 'name' ? this.#checked.refs.get(node) : undefined;
    return ref?.kind === 'field' ? fieldIndex(this.#survey, ref.field.name) : undefined;
  }

  #between(node: Node & { kind: 'between' }): Eval {
    const asId = [node.value, node.low, node.high].some((n) => this.#type(n) === 'id');
    const at = this.#fieldAt(node.value);
    const [lo, hi] = [this.#constant(node.low, asId), this.#constant(node.high, asId)];
    let within: Eval;
    if (at !== undefined && lo !== undefined && lo !== null && hi !== undefined && hi !== null) {
      // A field between two constants, the commonest BETWEEN: one closure, NULL only for a NULL field.
      within = (f) => { const v = f[at] as Scalar; return v === null ? null : v >= lo && v <= hi; };
    } else {
      const [value, low, high] = [node.value, node.low, node.high].map((n) => this.value(n, asId)) as [Eval, Eval, Eval];
      within = and(this.#comparison('>=', value, low), this.#comparison('<=', value, high));
    }
    return node.negated ? not(within) : within;
  }

  #in(node: Node & { kind: 'in' }): Eval {
    const asId = [node.value, ...node.list].some((n) => this.#type(n) === 'id');
    const value = this.value(node.value, asId);
    const constants = node.list.map((n) => this.#constant(n, asId));
    let member: Eval;
    const at = this.#fieldAt(node.value);
    if (constants.every((c) => c !== undefined && c !== null)) {
      const set = new Set(constants);
      member = at === undefined
        ? (f) => { const v = value(f); return v === null ? null : set.has(v); }
        : (f) => { const v = f[at] as Scalar; return v === null ? null : set.has(v); };
    } else {
      const items = node.list.map((n) => this.value(n, asId));
      member = (f) => {
        const v = value(f);
        if (v === null) return null;
        let unknown = false;
        for (const item of items) {
          const x = item(f);
          if (x === null) unknown = true;
          else if (x === v) return true;
        }
        return unknown ? null : false;
      };
    }
    return node.negated ? not(member) : member;
  }

  #like(node: Node & { kind: 'like' }): Eval {
    const value = this.value(node.value);
    const constant = this.#constant(node.pattern, false);
    let match: Eval;
    if (typeof constant === 'string') {
      const matcher = likeMatcher(constant);
      match = (f) => { const v = value(f); return v === null ? null : matcher(v as string); };
    } else {
      const pattern = this.value(node.pattern);
      match = (f) => {
        const v = value(f);
        const p = v === null ? null : pattern(f);
        return v === null || p === null ? null : likeMatcher(p as string)(v as string);
      };
    }
    return node.negated ? not(match) : match;
  }

  #logic(node: Node & { kind: 'logic' }): Eval {
    const left = this.value(node.left);
    const right = this.value(node.right);
    return node.op === 'AND' ? and(left, right) : or(left, right);
  }
}

function and(left: Eval, right: Eval): Eval {
  return (f) => {
    const a = left(f);
    if (a === false) return false;
    const b = right(f);
    if (b === false) return false;
    return a === null || b === null ? null : true;
  };
}

function or(left: Eval, right: Eval): Eval {
  return (f) => {
    const a = left(f);
    if (a === true) return true;
    const b = right(f);
    if (b === true) return true;
    return a === null || b === null ? null : false;
  };
}

function not(operand: Eval): Eval {
  return (f) => { const v = operand(f); return v === null ? null : !v; };
}

/** The range a field of the row must fall in for the checked condition to be TRUE (Guard), if it has one. */
export function guardOf(checked: Checked, survey: Survey): Guard | undefined {
  return new Compiler(checked, survey).guard();
}

/** The checked condition as one closure: TRUE, FALSE or NULL (unknown) for an alert's row. */
export function compileChecked(checked: Checked, survey: Survey): Eval {
  return new Compiler(checked, survey).value(checked.root);
}
