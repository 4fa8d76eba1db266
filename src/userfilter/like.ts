// SQL's LIKE: `%` any run of characters, `_` one character, everything else itself (case counts,
// as in standard SQL and PostgreSQL). Matched by hand rather than through a RegExp built from the
// user's pattern: the classic greedy walk that goes back only to the last `%` takes at most
// length(text) x length(pattern) steps, where a backtracking regex of `%a%a%a...` can take far more.

const SURROGATE = /[\ud800-\udfff]/;

/** A matcher for one pattern. */
export function likeMatcher(pattern: string): (text: string) => boolean {
  // Code points, so that `_` is one character even outside the BMP.
  const p = [...pattern];
  return (input) => {
    const t: string | string[] = SURROGATE.test(input) ? [...input] : input;
    let ti = 0;
    let pi = 0;
    let star = -1;
    let mark = 0;
    while (ti < t.length) {
      if (pi < p.length && (p[pi] === '_' || (p[pi] !== '%' && p[pi] === t[ti]))) {
        ti++;
        pi++;
      } else if (pi < p.length && p[pi] === '%') {
        star = pi++;
        mark = ti;
      } else if (star >= 0) {
        pi = star + 1;
        ti = ++mark;
      } else {
        return false;
      }
    }
    while (pi < p.length && p[pi] === '%') pi++;
    return pi === p.length;
  };
}
