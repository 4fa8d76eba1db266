// stream2science: the survey's stream into the science database, exactly once.
//
// The consumer assigns itself every partition of the topics it wants (listed again every
// UPSTREAM_TOPICS_REFRESH_MS, so that a new nightly topic is picked up) instead of joining the
// upstream group and being handed partitions. Its positions live in the science database, committed
// in the transaction of the alerts they carry (src/sciencedb/positions.ts); a group member would
// have to seek to them on every assignment, and a rebalance landing between a fetch and its commit
// would hand the partition to a member whose fetch position the library chose. Self-assignment has
// no rebalance at all: a partition is read from the stored position and from nowhere else, as
// Spark's Kafka source does for Fink's own stream2science. One instance runs per group (the pid
// file); the group only receives commits, so Kafka's tools show the lag.
import { Admin, type Consumer } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeQuietly } from '../kafka/client-options.ts';
import { isClientError, isUnreachable, rootCauses } from '../kafka/errors.ts';
import { FinkError } from '../errors.ts';
import { fetchPartitions, newPartitionReader, type FetchedPartition } from '../kafka/topic-reader.ts';
import type { Logger } from '../log.ts';
import { SchemaCache } from '../sciencedb/decode.ts';
import { applyInOrder, positionKey, readPositions, type PositionedMessage } from '../sciencedb/positions.ts';
import { listNights, ScienceWriter } from '../sciencedb/store.ts';
import { deadLetterFile, recordDeadLetter } from './dead-letters.ts';
import { decodeMessage, type Decoders } from './decode.ts';
import type { Stream2ScienceMetrics } from './metrics.ts';
import { commitToGroup, groupOffsets, offsetsAt, type PartitionRef, type ResetTarget } from './offsets.ts';
import { RegistrySchemaCache } from './schema-cache.ts';
import { formatOf, wantedTopic, type Stream2ScienceSettings, type UpstreamFormat } from './settings.ts';

export interface RunOptions {
  signal: AbortSignal;
  log: Logger;
  metrics: Stream2ScienceMetrics;
  /** Moves every partition to these offsets first (and records them), as an operator does after an outage. */
  resetTo?: ResetTarget;
  /** Stops once every partition is read to the end seen by a fetch. */
  untilCaughtUp?: boolean;
  /** Seconds between two progress lines. */
  progressSeconds?: number;
}

export interface RunSummary {
  messages: number;
  alerts: number;
  deadLetters: number;
  seconds: number;
}

interface Assigned extends PartitionRef {
  topicId: string;
  format: UpstreamFormat;
  leader: number;
  next: bigint;
  highWatermark: bigint;
}

const PARTITION_MAX_BYTES = 8 << 20;
const FETCH_WAIT_MS = 500;
const GROUP_COMMIT_MS = 1000;
const BACKOFF_MAX_MS = 15_000;

/** The night positions go to when a batch stores no alert: the newest night, or today's (UTC). */
function idleNight(dir: string): () => string {
  return () => listNights(dir).at(-1) ?? new Date().toISOString().slice(0, 10).replaceAll('-', '');
}

export async function runStream2Science(settings: Stream2ScienceSettings, options: RunOptions): Promise<RunSummary> {
  const { signal, log, metrics } = options;
  const started = performance.now();
  const consumer = newPartitionReader(settings.connection, 'fink-stream2science', settings.groupId);
  const admin = new Admin({ clientId: 'fink-stream2science', ...settings.connection, retries: 3, timeout: 30_000 });
  const writer = new ScienceWriter(settings.scienceDbPath);
  const deadLetters = deadLetterFile(settings.stateDir);
  const decoders: Decoders = {
    schemas: new SchemaCache(),
    registry: new RegistrySchemaCache(settings.registry, settings.stateDir, { retries: settings.schemaRetries, log, signal }),
  };
  const stored = readPositions(settings.scienceDbPath);
  let epoch = Math.max(0, ...[...stored.values()].map((p) => p.epoch));
  const assigned = new Map<string, Assigned>();
  const summary: RunSummary = { messages: 0, alerts: 0, deadLetters: 0, seconds: 0 };
  const unformatted = new Set<string>();
  let uncommitted = new Map<string, Assigned>();
  let committedAt = 0;
  let refreshedAt = -Infinity;
  let outageSince: number | undefined;
  let backoff = 500;
  let progressAt = performance.now();
  let progressAlerts = 0;

  /** Lists the topics again: new partitions get their start position, gone topics are dropped. */
  const refresh = async (): Promise<void> => {
    const topics = (await admin.listTopics()).filter((t) => {
      if (!wantedTopic(settings, t)) return false;
      if (formatOf(settings, t) !== undefined) return true;
      if (!unformatted.has(t)) log('warn', 'topic matches UPSTREAM_TOPICS but no UPSTREAM_FORMAT entry: not consumed', { topic: t });
      unformatted.add(t);
      return false;
    });
    for (const [key, a] of assigned) if (!topics.includes(a.topic)) assigned.delete(key);
    if (topics.length === 0) return;
    const metadata = await consumer.metadata({ topics, forceUpdate: true });
    const fresh: Assigned[] = [];
    for (const topic of topics) {
      const described = metadata.topics.get(topic);
      if (described === undefined) continue;
      described.partitions.forEach((p, partition) => {
        const key = positionKey(topic, partition);
        const known = assigned.get(key);
        if (known !== undefined) {
          known.leader = p.leader;
          known.topicId = described.id;
          return;
        }
        const a: Assigned = { topic, partition, topicId: described.id, format: formatOf(settings, topic)!, leader: p.leader, next: -1n, highWatermark: -1n };
        assigned.set(key, a);
        fresh.push(a);
      });
    }
    if (fresh.length === 0) return;
    const group = await groupOffsets(consumer, fresh.filter((a) => !stored.has(positionKey(a.topic, a.partition))));
    const earliest = await offsetsAt(consumer, fresh, 'earliest');
    for (const a of fresh) {
      const mine = stored.get(positionKey(a.topic, a.partition));
      const theirs = group.get(a.topic)?.[a.partition] ?? -1n;
      a.next = mine?.next ?? (theirs >= 0n ? theirs : (earliest.get(a.topic)?.[a.partition] ?? 0n));
      log('info', 'partition assigned', { topic: a.topic, partition: a.partition, from: a.next, by: mine !== undefined ? 'science database' : theirs >= 0n ? 'upstream group' : 'earliest' });
    }
  };

  /** Moves every assigned partition to `target` and records it at once, a new epoch of positions. */
  const reset = async (target: ResetTarget): Promise<void> => {
    const all = [...assigned.values()];
    const offsets = await offsetsAt(consumer, all, target);
    epoch++;
    const marks: PositionedMessage[] = all.map((a) => ({ topic: a.topic, partition: a.partition, next: offsets.get(a.topic)?.[a.partition] ?? a.next, alerts: [] }));
    applyInOrder(writer, marks, epoch, idleNight(settings.scienceDbPath));
    for (const m of marks) assigned.get(positionKey(m.topic, m.partition))!.next = m.next;
    await commitToGroup(consumer, marks);
    log('info', 'positions reset', { to: typeof target === 'string' ? target : target.time.toISOString(), partitions: marks.length, epoch });
  };

  /** The messages of one fetch round turned into what the science database takes, dead letters recorded. */
  const decodeRound = async (parts: readonly FetchedPartition[]): Promise<PositionedMessage[]> => {
    const out: PositionedMessage[] = [];
    for (const part of parts) {
      const a = assigned.get(positionKey(part.topic, part.partition));
      if (a === undefined) continue;
      for (const m of part.messages) {
        const decoded = await decodeMessage(a.format, m.value, decoders);
        metrics.countMessage(m.topic);
        summary.messages++;
        if ('reason' in decoded) {
          recordDeadLetter(deadLetters, { topic: m.topic, partition: m.partition, offset: m.offset, reason: decoded.reason });
          metrics.deadLetters++;
          summary.deadLetters++;
          log('warn', 'dead letter: the message does not decode', { topic: m.topic, partition: m.partition, offset: m.offset, reason: decoded.reason });
        }
        out.push({ topic: m.topic, partition: m.partition, next: m.offset + 1n, alerts: 'reason' in decoded ? [] : decoded.alerts });
      }
      // Control batches and aborted transactions move the position without a message.
      const last = part.messages.at(-1);
      if (part.next > (last === undefined ? a.next : last.offset + 1n)) out.push({ topic: part.topic, partition: part.partition, next: part.next, alerts: [] });
    }
    return out;
  };

  /**
   * A partition whose position the broker refuses: before its first offset, retention removed what
   * was not read (read on from the first one left); past its end, the topic was recreated (read the
   * new one from its start).
   */
  const outOfRange = async (a: Assigned): Promise<void> => {
    const [first, end] = await Promise.all([offsetsAt(consumer, [a], 'earliest'), offsetsAt(consumer, [a], 'latest')]);
    const from = first.get(a.topic)?.[a.partition] ?? 0n;
    const to = end.get(a.topic)?.[a.partition] ?? 0n;
    log('warn', 'position out of the partition\'s range: moved', { topic: a.topic, partition: a.partition, position: a.next, first: from, end: to, to: from });
    a.next = from;
  };

  const round = async (): Promise<boolean> => {
    if (performance.now() - refreshedAt >= settings.refreshMs) {
      await refresh();
      refreshedAt = performance.now();
    }
    const byLeader = new Map<number, Assigned[]>();
    for (const a of assigned.values()) byLeader.set(a.leader, [...(byLeader.get(a.leader) ?? []), a]);
    if (byLeader.size === 0) {
      await sleep(Math.min(settings.refreshMs, 1000), undefined, { signal }).catch(() => undefined);
      return false;
    }
    const fetched = (await Promise.all([...byLeader].map(([node, list]) => fetchPartitions(consumer, node, list.map((a) => ({ topic: a.topic, topicId: a.topicId, partition: a.partition, offset: a.next })), { maxWaitTime: FETCH_WAIT_MS, partitionMaxBytes: PARTITION_MAX_BYTES })))).flat();
    const good: FetchedPartition[] = [];
    for (const part of fetched) {
      const a = assigned.get(positionKey(part.topic, part.partition))!;
      if (part.error === 'NONE') {
        good.push(part);
        a.highWatermark = part.highWatermark;
      } else if (part.error === 'OFFSET_OUT_OF_RANGE') {
        await outOfRange(a);
      } else {
        // A leader moved, a topic went: the metadata is looked at again before the next fetch.
        log('warn', 'fetch refused for a partition: looking at the metadata again', { topic: part.topic, partition: part.partition, error: part.error });
        metrics.countError('upstream');
        refreshedAt = -Infinity;
      }
    }
    const messages = await decodeRound(good);
    const applied = applyInOrder(writer, messages, epoch, idleNight(settings.scienceDbPath));
    const alerts = messages.reduce((n, m) => n + m.alerts.length, 0);
    metrics.alerts += applied.inserted;
    metrics.duplicates += alerts - applied.inserted;
    metrics.transactions += applied.transactions;
    summary.alerts += applied.inserted;
    for (const m of messages) {
      const a = assigned.get(positionKey(m.topic, m.partition))!;
      a.next = m.next;
      uncommitted.set(positionKey(m.topic, m.partition), a);
    }
    for (const a of assigned.values()) if (a.highWatermark >= 0n) metrics.setLag(a.topic, a.partition, Number(a.highWatermark > a.next ? a.highWatermark - a.next : 0n));
    if (uncommitted.size > 0 && performance.now() - committedAt >= GROUP_COMMIT_MS) {
      const batch = [...uncommitted.values()].map((a) => ({ topic: a.topic, partition: a.partition, next: a.next }));
      uncommitted = new Map();
      committedAt = performance.now();
      await commitToGroup(consumer, batch).catch((err: unknown) => {
        metrics.countError('group_commit');
        log('warn', 'could not commit offsets to the upstream group (monitoring only: positions are in the science database)', { group: settings.groupId, error: rootCauses(err).join('; ') });
      });
    }
    return [...assigned.values()].every((a) => a.highWatermark >= 0n && a.next >= a.highWatermark);
  };

  const progress = (): void => {
    const now = performance.now();
    if (now - progressAt < (options.progressSeconds ?? 5) * 1000) return;
    log('info', 'progress', { alerts: metrics.alerts, alerts_per_s: ((metrics.alerts - progressAlerts) / ((now - progressAt) / 1000)).toFixed(0), lag: metrics.totalLag(), dead_letters: metrics.deadLetters });
    progressAt = now;
    progressAlerts = metrics.alerts;
  };

  try {
    let resetDone = options.resetTo === undefined;
    while (!signal.aborted) {
      try {
        if (!resetDone) {
          await refresh();
          refreshedAt = performance.now();
          await reset(options.resetTo!);
          resetDone = true;
        }
        const caughtUp = await round();
        if (outageSince !== undefined) log('info', 'upstream is back', { after_s: ((Date.now() - outageSince) / 1000).toFixed(1) });
        outageSince = undefined;
        backoff = 500;
        progress();
        if (caughtUp && options.untilCaughtUp === true) break;
      } catch (err) {
        if (signal.aborted) break;
        if (!isClientError(err)) throw err;
        // A one-off run against a cluster that does not answer says so rather than waiting for it.
        if (options.untilCaughtUp === true && summary.messages === 0 && isUnreachable(err)) {
          throw new FinkError(`the upstream Kafka does not answer at ${settings.connection.bootstrapBrokers.join(',')} (${rootCauses(err).join('; ')}): check UPSTREAM_SERVERS and UPSTREAM_SECURITY_PROTOCOL`);
        }
        metrics.countError('upstream');
        if (outageSince === undefined) {
          outageSince = Date.now();
          log('warn', 'upstream unavailable: retrying with backoff, nothing is lost', { servers: settings.connection.bootstrapBrokers.join(','), error: rootCauses(err).join('; ') });
        }
        await sleep(backoff, undefined, { signal }).catch(() => undefined);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        refreshedAt = -Infinity;
      }
    }
    if (uncommitted.size > 0) await commitToGroup(consumer, [...uncommitted.values()].map((a) => ({ topic: a.topic, partition: a.partition, next: a.next }))).catch(() => undefined);
  } finally {
    writer.close();
    await closeQuietly(admin);
    await closeQuietly(consumer as Consumer);
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
