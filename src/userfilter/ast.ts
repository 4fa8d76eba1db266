// The tree of a parsed condition: what the parser builds, the checker types and the compiler turns
// into closures. Every node keeps the column of the word that made it, for the errors that point.

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type ArithOp = '+' | '-' | '*' | '/' | '%';

export type Node =
  | { kind: 'number'; value: number; text: string; column: number }
  | { kind: 'string'; value: string; column: number }
  | { kind: 'boolean'; value: boolean; column: number }
  | { kind: 'null'; column: number }
  /** A field of the survey or a shipped filter, as the user wrote it (matched without case). */
  | { kind: 'name'; name: string; column: number }
  | { kind: 'call'; name: string; args: Node[]; column: number }
  | { kind: 'negate'; operand: Node; column: number }
  | { kind: 'arith'; op: ArithOp; left: Node; right: Node; column: number }
  | { kind: 'compare'; op: CompareOp; left: Node; right: Node; column: number }
  | { kind: 'not'; operand: Node; column: number }
  | { kind: 'logic'; op: 'AND' | 'OR'; left: Node; right: Node; column: number }
  | { kind: 'between'; negated: boolean; value: Node; low: Node; high: Node; column: number }
  | { kind: 'in'; negated: boolean; value: Node; list: Node[]; column: number }
  | { kind: 'like'; negated: boolean; value: Node; pattern: Node; column: number }
  | { kind: 'isnull'; negated: boolean; value: Node; column: number };
