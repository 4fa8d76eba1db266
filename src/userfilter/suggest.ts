// "Did you mean": the known name nearest to a mistyped one, by edit distance without case, when it
// is near enough to be a typing mistake rather than another word.

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** The nearest of `names` to `name`, or undefined when none is within a third of its length (at least 2 edits). */
export function nearest(name: string, names: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const bound = Math.max(2, Math.floor(lower.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const candidate of names) {
    const d = distance(lower, candidate.toLowerCase());
    if (d <= bound && (best === undefined || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}
