// The positions stream2science commits to the upstream group, for monitoring only (Kafka's tools
// then show the group's lag; the positions that count are in the science database): at most one
// commit a second while running, and what is left when the service stops. How a commit is sent is
// the caller's: as a simple consumer (one instance per group), or as the group's member (shared mode).
import type { Consumer } from '@platformatic/kafka';
import { classifyKafkaError, rootCauses } from '../kafka/errors.ts';
import type { Logger } from '../log.ts';
import type { Assigned } from './assignment.ts';
import type { Stream2ScienceMetrics } from './metrics.ts';
import { commitToGroup, type PartitionRef } from './offsets.ts';

const GROUP_COMMIT_MS = 1000;

export type CommitPositions = (positions: readonly (PartitionRef & { next: bigint })[]) => Promise<void>;

export class GroupCommits {
  readonly #commit: CommitPositions;
  readonly #group: string;
  readonly #metrics: Stream2ScienceMetrics;
  readonly #log: Logger;
  #uncommitted = new Set<Assigned>();
  /** The partitions of the commit in flight: moved back to the uncommitted if it fails, unless given up meanwhile. */
  #inFlight = new Set<Assigned>();
  #committedAt = -Infinity;

  /** `commit` sends them (default: `consumer` commits as a simple consumer, commitToGroup). */
  constructor(consumer: Consumer, group: string, metrics: Stream2ScienceMetrics, log: Logger, commit?: CommitPositions) {
    this.#commit = commit ?? ((positions) => commitToGroup(consumer, positions));
    this.#group = group;
    this.#metrics = metrics;
    this.#log = log;
  }

  /** Partitions that moved: their positions go with the next commit. */
  note(moved: readonly Assigned[]): void {
    for (const a of moved) this.#uncommitted.add(a);
  }

  /** Partitions given up: their positions are the new owner's to commit. */
  forget(parts: readonly PartitionRef[]): void {
    for (const set of [this.#uncommitted, this.#inFlight]) {
      for (const a of [...set]) if (parts.some((p) => p.topic === a.topic && p.partition === a.partition)) set.delete(a);
    }
  }

  /** Commits the positions moved since the last commit: if a second has passed, or at once when `final`. */
  async flush({ final }: { final: boolean }): Promise<void> {
    if (this.#uncommitted.size === 0 || (!final && performance.now() - this.#committedAt < GROUP_COMMIT_MS)) return;
    const batch = [...this.#uncommitted].map((a) => ({ topic: a.topic, partition: a.partition, next: a.next }));
    this.#inFlight = this.#uncommitted;
    this.#uncommitted = new Set();
    this.#committedAt = performance.now();
    try {
      await this.#commit(batch);
    } catch (err) {
      if (classifyKafkaError(err) === undefined) throw err;
      // Tried again with a later flush: once a stream goes quiet nothing else moves these
      // partitions, and the group's committed offsets (its lag in Kafka's tools) would stay behind
      // for good after a commit refused during a rebalance (seen in a CI run of the shared mode).
      for (const a of this.#inFlight) this.#uncommitted.add(a);
      this.#metrics.countError('group_commit');
      this.#log('warn', 'could not commit offsets to the upstream group (monitoring only: positions are in the science database)', { group: this.#group, error: rootCauses(err).join('; ') });
    } finally {
      this.#inFlight = new Set();
    }
  }
}
