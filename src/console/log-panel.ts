// The panel's part for the science log (SCIENCE_STORE=kafka): per survey topic, how fast it is
// written and how far the distribution's consumer group is behind it. Rates come from the topics'
// stable end offsets sampled over time (as the service panel's without a metrics endpoint), so
// they count transaction markers too: one per partition a writer's transaction touched. The lag
// is the group's committed offsets against the same ends, read from outside the group (the
// console never joins it).
import type { Consumer } from '@platformatic/kafka';
import { SURVEYS } from '../alert/survey.ts';
import { closeQuietly, type KafkaConnection } from '../kafka/client-options.ts';
import { errorIds } from '../kafka/errors.ts';
import { scienceTopic } from '../sciencedb/log-format.ts';
import { groupObserver, partitionLags, type CommittedOffsets } from '../sciencedb/log-lag.ts';

/** Why the lag may not be read for a while: the broker will not answer offsets a transaction still open may replace. */
const UNSTABLE = "the group's offsets are not stable: a transaction that commits some is still open (a member killed mid-batch holds one until its transaction timeout, 30 s); asked again at the next sample";

export interface LogTopicRow {
  topic: string;
  partitions: number;
  /** Stable end offsets summed over the partitions (alerts and transaction markers). */
  offsets: number;
  /** Offsets per second since the previous sample; null on the first. */
  rate: number | null;
  /** Records of the topic that the group has not committed past. */
  lag: number;
}

export interface ScienceLogSnapshot {
  group: string;
  topics: LogTopicRow[];
  /** Why the last sample failed, if it did (the rows are then the last good ones). */
  error: string | null;
}

export class ScienceLogPanel {
  readonly #connection: KafkaConnection;
  readonly #group: string;
  readonly #topics: string[];
  #observer: { reader: Consumer; committed: CommittedOffsets } | undefined;
  #previous: { t: number; offsets: Map<string, number> } | undefined;
  #snapshot: ScienceLogSnapshot;

  constructor(connection: KafkaConnection, prefix: string, group: string) {
    this.#connection = connection;
    this.#group = group;
    this.#topics = SURVEYS.map((survey) => scienceTopic(prefix, survey));
    this.#snapshot = { group, topics: [], error: null };
  }

  /** Reads the log's ends and the group's offsets once; a failure is shown, and the next sample starts afresh. */
  async sample(): Promise<void> {
    try {
      this.#observer ??= groupObserver(this.#connection, this.#group, 'fink-console-log');
      const lags = await partitionLags(this.#connection, this.#observer.reader, this.#observer.committed, this.#topics);
      const now = Date.now();
      const rows = new Map<string, LogTopicRow>();
      for (const p of lags) {
        let row = rows.get(p.topic);
        if (row === undefined) rows.set(p.topic, (row = { topic: p.topic, partitions: 0, offsets: 0, rate: null, lag: 0 }));
        row.partitions++;
        row.offsets += Number(p.end);
        row.lag += Number(p.lag);
      }
      const previous = this.#previous;
      for (const row of rows.values()) {
        const before = previous?.offsets.get(row.topic);
        // A topic deleted and made again starts from zero: no rate until the next sample.
        if (previous !== undefined && before !== undefined && row.offsets >= before) row.rate = (row.offsets - before) / ((now - previous.t) / 1000);
      }
      this.#previous = { t: now, offsets: new Map([...rows.values()].map((r) => [r.topic, r.offsets])) };
      this.#snapshot = { group: this.#group, topics: [...rows.values()], error: null };
    } catch (err) {
      this.#snapshot = { ...this.#snapshot, error: errorIds(err).includes('UNSTABLE_OFFSET_COMMIT') ? UNSTABLE : (err as Error).message };
      // The coordinator may have moved (a broker gone): a new reader finds it again.
      await this.close();
    }
  }

  snapshot(): ScienceLogSnapshot {
    return this.#snapshot;
  }

  async close(): Promise<void> {
    const observer = this.#observer;
    this.#observer = undefined;
    if (observer !== undefined) await closeQuietly(observer.reader);
  }
}
