// The topics the service fills: the test topic (distribution_test) with every alert, and one
// science topic per active filter, `${SUBSTREAM_PREFIX}<filter>_<survey>` (`_ztf`, `_lsst`).
import { FinkError } from '../errors.ts';
import type { Filter } from './filters.ts';

export interface TopicPlan {
  topic: string;
  /** Null: every alert. */
  filter: Filter | null;
  /** Top-level fields left out of this topic's messages. */
  drop: readonly string[];
}

/**
 * The compression of a topic's record batches: a topic that drops fields (the cutouts) is mostly
 * the schema repeated in every key, which zstd's window spans and lz4's does not; a topic of whole
 * alerts is mostly cutouts, where zstd saves less than it costs (BENCHMARKS.md, Compression per topic).
 */
export function topicCompression<C>(plan: TopicPlan, whole: C, light: C): C {
  return plan.drop.length > 0 ? light : whole;
}

/** Which topics to fill (DISTRIBUTION_TEST_TOPIC, SUBSTREAM_PREFIX, DISTRIBUTION_TOPICS). */
export interface TopicSelection {
  testTopic: string;
  prefix: string;
  /** Filter names, or `all`; empty: all. */
  wanted: readonly string[];
  /** Where the filters were found, for messages. */
  filtersDir: string;
}

export function topicName(prefix: string, filter: Filter): string {
  return `${prefix}${filter.name}_${filter.survey}`;
}

/** The active topics; a name in `wanted` without a filter is an error. */
export function planTopics(selection: TopicSelection, filters: readonly Filter[]): TopicPlan[] {
  const { wanted } = selection;
  const all = wanted.length === 0 || wanted.includes('all');
  for (const name of wanted) {
    if (name !== 'all' && name !== 'none' && !filters.some((f) => f.name === name)) {
      throw new FinkError(`DISTRIBUTION_TOPICS names '${name}', but there is no filter ${name}.ts in ${selection.filtersDir} (filters: ${filters.map((f) => f.name).join(', ') || 'none'})`);
    }
  }
  const plans: TopicPlan[] = [{ topic: selection.testTopic, filter: null, drop: [] }];
  for (const filter of filters) {
    if (all || wanted.includes(filter.name)) plans.push({ topic: topicName(selection.prefix, filter), filter, drop: filter.dropFields ?? [] });
  }
  return plans;
}
