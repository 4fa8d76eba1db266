// The science log's partitions that this member owns, read in batches at read_committed (group
// mode): where each stands, its dedup window, and what a batch of them holds. Positions and
// windows belong to one generation of the group: after a failure or a rebalance they are thrown
// away and rebuilt from the group's committed offsets and the log, so that whatever this instance
// did in a transaction that did not commit leaves no trace.
import { ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import type { Survey } from '../alert/survey.ts';
import { FinkError } from '../errors.ts';
import { fetchPartitions, type ConsumedMessage, type FetchPosition } from '../kafka/topic-reader.ts';
import type { TopicOffset } from '../kafka/txn-offsets.ts';
import type { Logger } from '../log.ts';
import { decodeLogAlert, LogRecordError, type LoggedAlert } from '../sciencedb/log-format.ts';
import { DedupWindow } from './dedup-window.ts';
import type { PartitionRef } from '../kafka/group-member.ts';

interface PartitionState {
  topic: string;
  topicId: string;
  survey: Survey;
  partition: number;
  leader: number;
  /** The next offset to read: the offset the group has committed, or will once the batch in flight commits. */
  position: bigint;
  window: DedupWindow;
  /** Records fetched from `position` on and not yet in a batch: a fetch brings more than a batch takes. */
  buffered: ConsumedMessage[];
  /** Where the next fetch of the partition starts: past what is buffered. */
  fetchFrom: bigint;
}

/** A record of the log that is not an alert: skipped, with where it is and why. */
export interface RefusedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  reason: string;
}

/** Where an alert of a batch came from. */
export interface LogPlace {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface LogBatch {
  alerts: LoggedAlert[];
  /** Each alert's place, in the same order. */
  places: LogPlace[];
  duplicates: number;
  refused: RefusedRecord[];
  /** The new positions of the partitions this batch moved. */
  offsets: TopicOffset[];
}

/**
 * Per partition and fetch. What a batch does not take is kept for the next one (it was fetched
 * again and thrown away: group mode spent four times the SQLite path's CPU per alert on it). 1 MiB
 * keeps what a member buffers beyond its batch small; a batch is gathered over as many fetch
 * rounds as its size (DISTRIBUTION_BATCH_BYTES) takes. A record batch larger than that still
 * comes whole.
 */
const FETCH_PARTITION_BYTES = 1 << 20;

/**
 * A partition's leader is not where this member thought (a broker left or came back): the member
 * takes its partitions again, with fresh metadata, from the committed offsets. Thrown for a fetch
 * to a broker the client no longer lists, and for a partition answered NOT_LEADER_OR_FOLLOWER and
 * the like; without it a broker lost stopped the instances ('Cannot find broker with node id 2').
 */
export class LeaderMovedError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_LEADER_MOVED' });
    this.name = 'LeaderMovedError';
  }
}

const LEADER_MOVED = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'REPLICA_NOT_AVAILABLE']);

/** fetchPartitions from a partition's leader, a leader that moved said so (LeaderMovedError). */
async function fetchFromLeader(reader: Consumer, node: number, wanted: FetchPosition[], options: Parameters<typeof fetchPartitions>[3]): Promise<Awaited<ReturnType<typeof fetchPartitions>>> {
  let fetched: Awaited<ReturnType<typeof fetchPartitions>>;
  try {
    fetched = await fetchPartitions(reader, node, wanted, options);
  } catch (err) {
    if (err instanceof Error && /Cannot find broker with node id/.test(err.message)) throw new LeaderMovedError(`node ${node}, the leader of ${wanted.map(where).join(', ')}, is no longer a broker of the cluster`);
    throw err;
  }
  const moved = fetched.find((part) => LEADER_MOVED.has(part.error));
  if (moved !== undefined) throw new LeaderMovedError(`${moved.topic}/${moved.partition}: ${moved.error} from node ${node}`);
  return fetched;
}

function where(m: { topic: string; partition: number; offset: bigint }): string {
  return `${m.topic}/${m.partition} offset ${m.offset}`;
}

export class LogPartitions {
  readonly #reader: Consumer;
  readonly #states: PartitionState[];
  readonly #log: Logger;
  /** Which partition the next batch starts with. */
  #turn = 0;

  private constructor(reader: Consumer, states: PartitionState[], log: Logger) {
    this.#reader = reader;
    this.#states = states;
    this.#log = log;
  }

  /**
   * Takes `partitions` over at the group's committed offsets (`committed`; none: the log's start),
   * each window rebuilt from the `windowSize` offsets before it without distributing them.
   */
  static async take(reader: Consumer, partitions: readonly PartitionRef[], surveyOf: (topic: string) => Survey, committed: ReadonlyMap<string, bigint | undefined>, windowSize: number, log: Logger): Promise<LogPartitions> {
    const topics = [...new Set(partitions.map((p) => p.topic))];
    const states: PartitionState[] = [];
    const from = new Map<PartitionState, bigint>();
    if (topics.length > 0) {
      const metadata = await reader.metadata({ topics, forceUpdate: true });
      const starts = await reader.listOffsets({ topics, timestamp: ListOffsetTimestamps.EARLIEST });
      for (const { topic, partition } of partitions) {
        const described = metadata.topics.get(topic);
        if (described === undefined) throw new FinkError(`topic ${topic} of the science log is not in the cluster's metadata`, { code: 'FINK_KAFKA' });
        const start = starts.get(topic)?.[partition] ?? 0n;
        const at = committed.get(`${topic}/${partition}`);
        const position = at === undefined || at < start ? start : at;
        const state: PartitionState = { topic, topicId: described.id, survey: surveyOf(topic), partition, leader: described.partitions[partition]!.leader, position, window: new DedupWindow(windowSize), buffered: [], fetchFrom: position };
        states.push(state);
        from.set(state, DedupWindow.from(windowSize, position, start));
      }
    }
    const taken = new LogPartitions(reader, states, log);
    await taken.#rebuildWindows(windowSize, from);
    return taken;
  }

  get partitions(): number {
    return this.#states.length;
  }

  /** Feeds each window the alert ids of the records before its position. */
  async #rebuildWindows(windowSize: number, from: Map<PartitionState, bigint>): Promise<void> {
    if (windowSize === 0) return;
    const cursor = new Map(this.#states.map((s) => [s, from.get(s)!]));
    for (;;) {
      const open = this.#states.filter((s) => cursor.get(s)! < s.position);
      if (open.length === 0) return;
      for (const [node, list] of byLeader(open)) {
        const fetched = await fetchFromLeader(this.#reader, node, list.map((s) => ({ topic: s.topic, topicId: s.topicId, partition: s.partition, offset: cursor.get(s)! })), { maxWaitTime: 100, partitionMaxBytes: FETCH_PARTITION_BYTES, log: this.#log });
        for (const part of fetched) {
          const s = list.find((x) => x.partition === part.partition && x.topic === part.topic)!;
          if (part.error === 'OFFSET_OUT_OF_RANGE') {
            // Retention removed the start of the window meanwhile: what is left of it is what counts.
            cursor.set(s, s.position);
            continue;
          }
          if (part.error !== 'NONE') throw new FinkError(`fetching ${s.topic}/${s.partition} failed: ${part.error}`, { code: 'FINK_KAFKA' });
          for (const m of part.messages) {
            if (m.offset >= s.position) break;
            const id = alertIdOf(s.survey, m);
            if (id !== undefined) s.window.seen(m.offset, id);
          }
          // A fetch that brings nothing more (the window's end is the position) ends the partition.
          cursor.set(s, part.next > cursor.get(s)! ? part.next : s.position);
        }
      }
    }
  }

  /**
   * The next batch: at most `maxAlerts` alerts and about `maxBytes`, from the owned partitions in
   * turn (each batch starts one partition further, so that none waits on the others' backlog).
   * Gathered to its size: while it is not full and the last fetch round brought something (or
   * left out partitions that still had records buffered), the emptied partitions are fetched again
   * at once, without waiting. One fetch round brings about FETCH_PARTITION_BYTES a
   * partition, so a member holding few partitions cut its batches at a fraction of
   * DISTRIBUTION_BATCH_BYTES (3 instances of 12 partitions: a third), and paid a transaction's
   * round trips for each. Duplicates (by the windows) and records that are not alerts are passed
   * over, their offsets moving with the batch. The windows take the batch's records; the positions
   * move only when `confirm` says the batch committed.
   */
  async read(maxAlerts: number, maxBytes: number, waitMs: number): Promise<LogBatch> {
    const batch: LogBatch = { alerts: [], places: [], duplicates: 0, refused: [], offsets: [] };
    const size = { bytes: 0 };
    const full = () => batch.alerts.length >= maxAlerts || size.bytes >= maxBytes;
    const n = this.#states.length;
    const first = n === 0 ? 0 : this.#turn++ % n;
    let wait = waitMs;
    for (;;) {
      // A partition with records buffered is not fetched this round: once emptied, it is the next's.
      const buffered = this.#states.some((s) => s.buffered.length > 0);
      const moved = await this.#fill(buffered ? 0 : wait);
      for (let i = 0; i < n && !full(); i++) this.#take(this.#states[(first + i) % n]!, batch, size, full);
      if (full() || (!moved && !buffered)) break;
      wait = 0;
    }
    for (const s of this.#states) {
      const next = s.buffered[0]?.offset ?? s.fetchFrom;
      if (next > s.position) batch.offsets.push({ topic: s.topic, partition: s.partition, offset: next });
    }
    return batch;
  }

  /** Takes the buffered records of `s` into `batch` until it is full. */
  #take(s: PartitionState, batch: LogBatch, size: { bytes: number }, full: () => boolean): void {
    let taken = 0;
    for (const m of s.buffered) {
      if (full()) break;
      taken++;
      const alert = this.#decode(s, m, batch);
      if (alert === undefined) continue;
      if (s.window.seen(m.offset, alert.alertId)) {
        batch.duplicates++;
        continue;
      }
      batch.alerts.push(alert);
      batch.places.push({ topic: m.topic, partition: m.partition, offset: m.offset });
      size.bytes += alert.wire.length;
    }
    if (taken > 0) s.buffered = s.buffered.slice(taken);
  }

  /**
   * Fetches the partitions whose buffer is empty, from where their last fetch ended. Says whether
   * any of them moved (records, or only control records and aborted ones to read past).
   */
  async #fill(waitMs: number): Promise<boolean> {
    const empty = this.#states.filter((s) => s.buffered.length === 0);
    let moved = false;
    for (const [node, list] of byLeader(empty)) {
      const fetched = await fetchFromLeader(this.#reader, node, list.map((s) => ({ topic: s.topic, topicId: s.topicId, partition: s.partition, offset: s.fetchFrom })), { maxWaitTime: waitMs, partitionMaxBytes: FETCH_PARTITION_BYTES, log: this.#log });
      for (const part of fetched) {
        const s = list.find((x) => x.partition === part.partition && x.topic === part.topic)!;
        if (part.error !== 'NONE') throw new FinkError(`fetching ${s.topic}/${s.partition} failed: ${part.error}`, { code: 'FINK_KAFKA' });
        s.buffered = part.messages;
        if (part.next > s.fetchFrom) {
          s.fetchFrom = part.next;
          moved = true;
        }
      }
    }
    return moved;
  }

  #decode(s: PartitionState, m: ConsumedMessage, batch: LogBatch): LoggedAlert | undefined {
    try {
      if (m.value === null) throw new LogRecordError(`${where(m)}: a record without a value`);
      return decodeLogAlert(s.survey, m.value, where(m));
    } catch (err) {
      if (!(err instanceof LogRecordError)) throw err;
      batch.refused.push({ topic: m.topic, partition: m.partition, offset: m.offset, reason: err.message });
      return undefined;
    }
  }

  /** The batch committed: its partitions move on. */
  confirm(batch: LogBatch): void {
    for (const o of batch.offsets) {
      const s = this.#states.find((x) => x.topic === o.topic && x.partition === o.partition);
      if (s !== undefined) s.position = o.offset;
    }
  }
}

function byLeader(states: readonly PartitionState[]): Map<number, PartitionState[]> {
  const out = new Map<number, PartitionState[]>();
  for (const s of states) {
    let list = out.get(s.leader);
    if (list === undefined) out.set(s.leader, (list = []));
    list.push(s);
  }
  return out;
}

/** The alert id of a record, or undefined for a record that is not an alert (it is no one's duplicate). */
function alertIdOf(survey: Survey, m: ConsumedMessage): bigint | undefined {
  if (m.value === null) return undefined;
  try {
    return decodeLogAlert(survey, m.value, where(m)).alertId;
  } catch (err) {
    if (err instanceof LogRecordError) return undefined;
    throw err;
  }
}
