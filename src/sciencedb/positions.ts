// Where stream2science stands upstream, kept in the science database itself: every night file has a
// table of upstream positions (topic, partition -> next offset), written in the same SQLite
// transaction as the alerts that brought the consumer there. A night file is its own database, so
// no transaction spans two nights: messages are applied in the order they were fetched, and when
// the night changes the running transaction is committed (the alerts and positions of everything
// up to there) and the next one starts in the next night's file. Each partition's committed ranges
// are thus contiguous and increasing, and its position is the largest over the night files (see
// docs/architecture.md, Stream2science: exactly once).
import { hasTable } from './tables.ts';
import { listNights, openNight, ScienceWriter, type NewAlert, type UpstreamPosition } from './store.ts';

export function positionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Which of two positions of one partition holds: the later reset, then the further offset. */
function later(a: UpstreamPosition, b: UpstreamPosition): UpstreamPosition {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? a : b;
  return a.next >= b.next ? a : b;
}

/**
 * The committed position of every upstream partition, by `positionKey`: the latest over every
 * night file. A night pruned away takes with it the positions of partitions seen only in it.
 */
export function readPositions(dir: string): Map<string, UpstreamPosition> {
  const positions = new Map<string, UpstreamPosition>();
  for (const night of listNights(dir)) {
    const db = openNight(dir, night, { create: false });
    try {
      if (!hasTable(db, 'upstream_positions')) continue;
      const select = db.prepare('SELECT topic, partition, next_offset, epoch FROM upstream_positions');
      select.setReadBigInts(true);
      const rows = select.all() as { topic: string; partition: bigint; next_offset: bigint; epoch: bigint }[];
      for (const row of rows) {
        const p: UpstreamPosition = { topic: row.topic, partition: Number(row.partition), next: row.next_offset, epoch: Number(row.epoch) };
        const key = positionKey(p.topic, p.partition);
        const known = positions.get(key);
        positions.set(key, known === undefined ? p : later(known, p));
      }
    } finally {
      db.close();
    }
  }
  return positions;
}

/**
 * One upstream message as the science database takes it: the alerts it holds (each with its night),
 * and the position after it. A message that stores nothing (a dead letter) has no alerts but still
 * moves its partition on.
 */
export interface PositionedMessage {
  topic: string;
  partition: number;
  next: bigint;
  alerts: readonly NewAlert[];
}

export interface AppliedMessages {
  /** Alerts newly stored (the others were there already). */
  inserted: number;
  /** The SQLite transactions committed. */
  transactions: number;
}

/**
 * Stores messages in their order, one transaction per run of consecutive alerts of one night, each
 * with the positions of the messages it completes. A message without alerts joins the running
 * transaction (or, with none yet, the next one; at the end, the night `idleNight`). A message whose
 * alerts span nights (a container of several alerts) moves its partition only in the transaction of
 * its last alert: its earlier ones may be stored again after a crash, and the candid uniqueness
 * keeps them once.
 */
export function applyInOrder(writer: ScienceWriter, messages: readonly PositionedMessage[], epoch: number, idleNight: () => string): AppliedMessages {
  const done: AppliedMessages = { inserted: 0, transactions: 0 };
  let night: string | undefined;
  let alerts: NewAlert[] = [];
  const positions = new Map<string, UpstreamPosition>();
  const commit = (): void => {
    if (alerts.length === 0 && positions.size === 0) return;
    done.inserted += writer.night(night ?? idleNight()).write(alerts, [...positions.values()]);
    done.transactions++;
    alerts = [];
    positions.clear();
  };
  for (const m of messages) {
    for (const alert of m.alerts) {
      if (night !== undefined && alert.night !== night) commit();
      night = alert.night;
      alerts.push(alert);
    }
    // Before any alert of the batch, a position waits for the first night (or the idle one).
    positions.set(positionKey(m.topic, m.partition), { topic: m.topic, partition: m.partition, next: m.next, epoch });
  }
  commit();
  return done;
}

/**
 * What stream2science needs of a science store, whichever SCIENCE_STORE names: the positions it
 * committed, and messages applied with their positions, all or nothing per transaction.
 */
export interface UpstreamStore {
  /** The committed position of every upstream partition, by `positionKey`. */
  positions(): Promise<Map<string, UpstreamPosition>>;
  apply(messages: readonly PositionedMessage[], epoch: number): Promise<AppliedMessages>;
  /**
   * After `apply` failed: the positions committed when the store cannot tell whether its last
   * transaction committed (the log: a commit whose answer was lost), to move the partitions to;
   * undefined when it can (SQLite: a failed transaction is rolled back).
   */
  afterFailure(): Promise<Map<string, UpstreamPosition> | undefined>;
  close(): Promise<void>;
}

/** stream2science's store in the embedded science database (SCIENCE_STORE=sqlite). */
export class SqlitePositionStore implements UpstreamStore {
  readonly #dir: string;
  readonly #writer: ScienceWriter;

  constructor(dir: string) {
    this.#dir = dir;
    this.#writer = new ScienceWriter(dir);
  }

  positions(): Promise<Map<string, UpstreamPosition>> {
    return Promise.resolve(readPositions(this.#dir));
  }

  apply(messages: readonly PositionedMessage[], epoch: number): Promise<AppliedMessages> {
    return Promise.resolve(applyInOrder(this.#writer, messages, epoch, () => idleNight(this.#dir)));
  }

  afterFailure(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  close(): Promise<void> {
    this.#writer.close();
    return Promise.resolve();
  }
}

/** The night positions go to when a batch stores no alert: the newest night, or today's (UTC). */
function idleNight(dir: string): string {
  return listNights(dir).at(-1) ?? new Date().toISOString().slice(0, 10).replaceAll('-', '');
}
