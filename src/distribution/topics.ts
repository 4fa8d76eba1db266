// The topics the service fills: the test topic (distribution_test) with every alert, and one
// science topic per active filter, `${SUBSTREAM_PREFIX}<filter>_<survey>` (`_ztf`, `_lsst`); and
// one topic per registered user filter (user-topics.ts), whose plan carries its compiled condition.
import type { Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import type { Row } from '../userfilter/row.ts';
import type { Filter } from './filters.ts';

/** A user filter's compiled condition as a topic's test: only its survey's alerts, on their row (userfilter/row.ts). */
export interface UserCondition {
  /** The registration's key, `<owner>/<name>/<survey>`, for messages and metrics. */
  key: string;
  survey: Survey;
  /** Never throws (a throw is a non-match the condition reports itself). */
  testRow(row: Row): boolean;
  /** With a quota: whether a matching alert's message of `bytes` still fits the filter's quota of its night (user-quota.ts). */
  admit?: (night: string, bytes: number) => boolean;
}

export interface TopicPlan {
  topic: string;
  /** Null: every alert (unless `condition` says otherwise). */
  filter: Filter | null;
  /** A user filter's condition: the topic takes the alerts it matches. */
  condition?: UserCondition;
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
