// The functions a condition may call: what each takes, and what it computes. A result that is not
// a finite number (sqrt(-1), ln(0), a division's overflow) is NULL, as in SQL engines that do not
// stop a query for it: for a filter, an alert it cannot compute is an alert it does not match.

export type Scalar = number | string | boolean | bigint | null;

export interface FunctionSpec {
  /** Least and most arguments. */
  min: number;
  max: number;
  /** 'number': every argument a number; 'same': every argument of one type, which is the result's. */
  args: 'number' | 'same';
  apply: (values: readonly Scalar[]) => Scalar;
}

/** NULL where a computation gives no finite number. */
export function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function unary(f: (x: number) => number): FunctionSpec {
  return { min: 1, max: 1, args: 'number', apply: ([x]) => (x === null ? null : finite(f(x as number))) };
}

/** least/greatest ignore NULLs and are NULL only when every argument is (PostgreSQL's reading). */
function extreme(pick: (a: number, b: number) => boolean): FunctionSpec {
  return {
    min: 1, max: Infinity, args: 'number',
    apply: (values) => {
      let best: number | null = null;
      for (const v of values) if (v !== null && (best === null || pick(v as number, best))) best = v as number;
      return best;
    },
  };
}

export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['abs', unary(Math.abs)],
  ['sqrt', unary(Math.sqrt)],
  ['log10', unary(Math.log10)],
  ['ln', unary(Math.log)],
  ['exp', unary(Math.exp)],
  ['power', { min: 2, max: 2, args: 'number', apply: ([x, y]) => (x === null || y === null ? null : finite((x as number) ** (y as number))) }],
  ['least', extreme((a, b) => a < b)],
  ['greatest', extreme((a, b) => a > b)],
  ['coalesce', { min: 1, max: Infinity, args: 'same', apply: (values) => values.find((v) => v !== null) ?? null }],
]);
