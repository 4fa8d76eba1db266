// Topic names or regular expressions in configuration values, and the PATTERN=VALUE lists that
// give each topic a setting by name (UPSTREAM_FORMAT, DISTRIBUTION_FORMAT_TOPICS): one parser, so
// that both keys read alike and say the same things about a bad entry.
import { UsageError } from '../errors.ts';

/** A topic name or regular expression, matching whole names (`ztf_.*`; a plain name matches itself). */
export function topicPattern(text: string, key: string): RegExp {
  try {
    return new RegExp(`^(?:${text})$`);
  } catch (err) {
    throw new UsageError(`${key}: '${text}' is not a valid regular expression (${(err as Error).message})`);
  }
}

export interface PatternEntry<V extends string> {
  pattern: RegExp;
  value: V;
}

/**
 * `PATTERN=VALUE` entries of `key` (the last `=` splits, so a pattern may hold one); an entry
 * without `=` applies to every topic. Each value must be one of `values`.
 */
export function patternEntries<V extends string>(entries: readonly string[], key: string, values: readonly V[]): PatternEntry<V>[] {
  return entries.map((entry) => {
    const at = entry.lastIndexOf('=');
    const [pattern, value] = at < 0 ? ['.*', entry] : [entry.slice(0, at), entry.slice(at + 1)];
    if (!(values as readonly string[]).includes(value)) throw new UsageError(`${key}: '${value}' is not one of ${values.join(', ')}`);
    return { pattern: topicPattern(pattern, key), value: value as V };
  });
}

/** The value of the first entry whose pattern matches the whole of `topic`. */
export function valueFor<V extends string>(entries: readonly PatternEntry<V>[], topic: string): V | undefined {
  return entries.find((e) => e.pattern.test(topic))?.value;
}
