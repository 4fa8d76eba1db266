// The checkpoint lives in Kafka, in a compacted topic keyed by the service's id, and is written in
// the same transaction as the alerts it covers (docs/architecture.md, Exactly once): after any crash, the last committed
// checkpoint says exactly which alerts went out.
import type { KafkaConnection } from '../kafka/client-options.ts';
import { readTopic } from '../kafka/topic-reader.ts';
import type { Message } from '../kafka/transactional-session.ts';
import type { Checkpoint } from '../sciencedb/reader.ts';

export interface SavedCheckpoint {
  checkpoint: Checkpoint;
  /** The identity of each night's store the checkpoint was taken on. */
  stores: Record<string, string>;
  /** Alerts distributed by this id so far. */
  alerts: number;
  at: string;
}

/**
 * The last committed checkpoint of `id`, or null. Call it after the transactional producer has
 * started (which fences an older instance and completes its open transaction), so that the end of
 * the topic is stable.
 */
export async function readCheckpoint(connection: KafkaConnection, topic: string, id: string, settleMs = 2000): Promise<SavedCheckpoint | null> {
  let last: SavedCheckpoint | null = null;
  // The service asks for a long settle: a transaction of its own still being completed would hide
  // a committed checkpoint, and resuming before it would send a batch twice.
  for await (const message of readTopic(connection, topic, { settleMs })) {
    if (message.key?.toString() !== id) continue;
    last = message.value === null ? null : (JSON.parse(message.value.toString()) as SavedCheckpoint);
  }
  return last;
}

/**
 * The part of a saved checkpoint that still holds: a night whose store is not the one the
 * checkpoint was taken on (deleted and ingested again) starts over from its first alert.
 */
export function stillValid(saved: SavedCheckpoint, stores: Readonly<Record<string, string>>): { checkpoint: Checkpoint; replaced: { night: string; was: string; now: string }[] } {
  const checkpoint: Record<string, number> = {};
  const replaced: { night: string; was: string; now: string }[] = [];
  for (const [night, seq] of Object.entries(saved.checkpoint)) {
    const was = saved.stores?.[night];
    const now = stores[night];
    if (was === undefined || now === undefined || was === now) checkpoint[night] = seq;
    else replaced.push({ night, was, now });
  }
  return { checkpoint, replaced };
}

export function checkpointMessage(topic: string, id: string, saved: SavedCheckpoint): Message {
  return { topic, partition: 0, key: Buffer.from(id), value: Buffer.from(JSON.stringify(saved)) };
}
