// Random user conditions that look like real ones: one to three clauses over a survey's typed
// fields, most joined by AND, each selective (a threshold drawn from the upper or lower tail of the
// field's values in a sample of alerts, a few values of a label, a flag), so that a condition keeps
// a few per cent of the alerts as a science case does. Shared by the micro-benchmark of compiled
// conditions (bench/user-conditions.ts) and, later, the distribution's --user-filters case.
import type { Survey } from '../src/alert/survey.ts';
import { Random } from '../src/sciencedb/synthetic.ts';
import { surveyFields } from '../src/userfilter/catalogue.ts';

type Fields = Readonly<Record<string, unknown>>;

interface Pools {
  numbers: Map<string, number[]>;
  strings: Map<string, string[]>;
  flags: string[];
}

/** The values each field takes in the sample (sorted numbers, distinct strings), fields without any left out. */
function pools(survey: Survey, sample: readonly Fields[]): Pools {
  const result: Pools = { numbers: new Map(), strings: new Map(), flags: [] };
  for (const field of surveyFields(survey)) {
    const values = sample.map((f) => f[field.name]).filter((v) => v !== null && v !== undefined);
    if (values.length === 0) continue;
    if (field.type === 'number') result.numbers.set(field.name, (values as number[]).filter(Number.isFinite).sort((a, b) => a - b));
    else if (field.type === 'string') result.strings.set(field.name, [...new Set(values as string[])]);
    else if (field.type === 'boolean') result.flags.push(field.name);
  }
  return result;
}

// Every digit: a rounded threshold (61041.7 as 61042) can keep every alert of a night.
const literal = (x: number) => String(x);
const quoted = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * A clause; a negated one (which keeps most alerts) only beside a selective `first` one. A rare
 * first clause is a threshold in the outer half per cent of the field's values.
 */
function clause(random: Random, p: Pools, first: boolean, rare: boolean): string {
  const numeric = [...p.numbers.keys()];
  if (first && rare) {
    const name = random.pick(numeric);
    const values = p.numbers.get(name)!;
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    const high = random.next() < 0.5;
    const q = random.between(0.995, 0.9995);
    // Where the tail is one value (a flag-like field), the strict comparison keeps nothing: still a valid, rare condition.
    return high ? `${name} > ${literal(at(q))}` : `${name} < ${literal(at(1 - q))}`;
  }
  // Labels with a few values at least: IN of both values of a two-valued label keeps everything.
  const labels = [...p.strings.keys()].filter((k) => p.strings.get(k)!.length >= 4);
  const kind = random.next();
  if (kind < 0.65 || labels.length === 0) {
    const name = random.pick(numeric);
    const values = p.numbers.get(name)!;
    const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
    const shape = random.next();
    if (shape < 0.4) return `${name} > ${literal(at(random.between(0.8, 0.98)))}`;
    if (shape < 0.8) return `${name} < ${literal(at(random.between(0.02, 0.2)))}`;
    const low = random.between(0.1, 0.8);
    // Where one value holds most of the field (ZTF's -999 for none), a range would be that value.
    if (at(low) < at(low + 0.1)) return `${name} BETWEEN ${literal(at(low))} AND ${literal(at(low + 0.1))}`;
    return `${name} > ${literal(at(random.between(0.8, 0.98)))}`;
  }
  if (kind < 0.9 || p.flags.length === 0) {
    const name = random.pick(labels);
    const values = p.strings.get(name)!;
    const picked = [...new Set([random.pick(values), random.pick(values)])];
    return first || random.next() < 0.8 ? `${name} IN (${picked.map(quoted).join(', ')})` : `NOT ${name} = ${quoted(picked[0]!)}`;
  }
  const flag = random.pick(p.flags);
  return first || random.next() < 0.5 ? flag : `NOT ${flag}`;
}

/**
 * `count` conditions for the survey, drawn with `seed` from the values of `sample`. `rare`: each
 * keeps a few alerts in a thousand at most (its selective clause a threshold in the outer half per
 * cent of a field's values), as the streams users follow do, rather than a few per cent.
 */
export function randomConditions(survey: Survey, sample: readonly Fields[], count: number, seed: number, rare = false): string[] {
  const random = new Random(seed);
  const p = pools(survey, sample);
  return Array.from({ length: count }, () => {
    const count = random.int(1, 3);
    const or = count === 3 && random.next() < 0.25;
    // (a OR b) AND c: c is then the selective one.
    const clauses = Array.from({ length: count }, (_, i) => clause(random, p, i === 0 || (or && i === 2), rare));
    return or ? `(${clauses[0]} OR ${clauses[1]}) AND ${clauses[2]}` : clauses.join(' AND ');
  });
}

/**
 * The conditions with all but the first `sending` each ANDed with `never`, a clause no alert
 * meets: registered and evaluated as often, but matching nothing, so that what the filters send
 * can be varied apart from how many are evaluated.
 */
export function silencedAfter(conditions: readonly string[], sending: number, never: string): string[] {
  return conditions.map((c, i) => (i < sending ? c : `(${c}) AND ${never}`));
}
