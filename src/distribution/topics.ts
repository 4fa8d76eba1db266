// The topics the service fills: DISTRIBUTION_TEST_TOPIC (distribution_test) with every alert, and
// one science topic per active filter, `${SUBSTREAM_PREFIX}<filter>_ztf`.
import { FinkError } from '../errors.ts';
import type { Config } from '../config/config.ts';
import type { Filter } from './filters.ts';

export interface TopicPlan {
  topic: string;
  /** Null: every alert. */
  filter: Filter | null;
  /** Top-level fields left out of this topic's messages. */
  drop: readonly string[];
}

export function topicName(config: Config, filter: Filter): string {
  return `${config.get('SUBSTREAM_PREFIX') ?? ''}${filter.name}_ztf`;
}

/** The active topics, from DISTRIBUTION_TOPICS (`all`, or filter names); an unknown name is an error. */
export function planTopics(config: Config, filters: readonly Filter[]): TopicPlan[] {
  const wanted = config.list('DISTRIBUTION_TOPICS');
  const all = wanted.length === 0 || wanted.includes('all');
  for (const name of wanted) {
    if (name !== 'all' && name !== 'none' && !filters.some((f) => f.name === name)) {
      throw new FinkError(`DISTRIBUTION_TOPICS names '${name}', but there is no filter ${name}.ts in ${config.get('FILTERS_DIR')} (filters: ${filters.map((f) => f.name).join(', ') || 'none'})`);
    }
  }
  const plans: TopicPlan[] = [{ topic: config.require('DISTRIBUTION_TEST_TOPIC'), filter: null, drop: [] }];
  for (const filter of filters) {
    if (all || wanted.includes(filter.name)) plans.push({ topic: topicName(config, filter), filter, drop: filter.dropFields ?? [] });
  }
  return plans;
}
