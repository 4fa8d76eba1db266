// The checkpoint lives in Kafka, in a compacted topic keyed by the service's id, and is written in
// the same transaction as the alerts it covers (docs/architecture.md, Exactly once): after any crash, the last committed
// checkpoint says exactly which alerts went out.
import type { MessageToProduce } from '@platformatic/kafka';
import type { Config } from '../config/config.ts';
import { readTopic } from '../kafka/topic-reader.ts';
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
export async function readCheckpoint(config: Config, topic: string, id: string, settleMs = 2000): Promise<SavedCheckpoint | null> {
  let last: SavedCheckpoint | null = null;
  // The service asks for a long settle: a transaction of its own still being completed would hide
  // a committed checkpoint, and resuming before it would send a batch twice.
  for await (const message of readTopic(config, topic, { settleMs })) {
    if (message.key?.toString() !== id) continue;
    last = message.value === null ? null : (JSON.parse(message.value.toString()) as SavedCheckpoint);
  }
  return last;
}

export function checkpointMessage(topic: string, id: string, saved: SavedCheckpoint): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  return { topic, partition: 0, key: Buffer.from(id), value: Buffer.from(JSON.stringify(saved)) };
}
