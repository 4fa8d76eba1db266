// The checkpoint lives in Kafka, in a compacted topic keyed by the service's id, and is written in
// the same transaction as the alerts it covers (docs/architecture.md, Exactly once): after any crash, the last committed
// checkpoint says exactly which alerts went out.
import type { KafkaConnection } from '../kafka/client-options.ts';
import { readTopic } from '../kafka/topic-reader.ts';
import type { Message } from '../kafka/transactional-session.ts';
import type { Checkpoint } from '../sciencedb/reader.ts';
import { parseQuotaUsage, type QuotaUsage } from './user-quota.ts';

export interface SavedCheckpoint {
  checkpoint: Checkpoint;
  /** The identity of each night's store the checkpoint was taken on. */
  stores: Record<string, string>;
  /** Alerts distributed by this id so far. */
  alerts: number;
  at: string;
  /** Bytes each user filter sent per night (user-quota.ts), as of this checkpoint; absent in older records. */
  userBytes?: QuotaUsage;
  /** Alerts each user filter sent per night, as userBytes; absent in older records. */
  userAlerts?: QuotaUsage;
}

/** A record of the checkpoint topic that is not a checkpoint the service wrote: passed over. */
export interface IgnoredRecord {
  partition: number;
  offset: bigint;
  reason: string;
}

/**
 * The last committed checkpoint of `id`, or null, and the records of `id` passed over: only
 * well-formed checkpoints written in a transaction (as the service writes them) count; a
 * tombstone, a value that is not a checkpoint, or a record written outside a transaction by
 * anyone else who may write the topic, is named and passed over rather than trusted. Call it
 * after the transactional producer has started (which fences an older instance and completes its
 * open transaction), so that the end of the topic is stable.
 */
export async function readCheckpoint(connection: KafkaConnection, topic: string, id: string, settleMs = 2000): Promise<{ saved: SavedCheckpoint | null; ignored: IgnoredRecord[] }> {
  let saved: SavedCheckpoint | null = null;
  const ignored: IgnoredRecord[] = [];
  // The service asks for a long settle: a transaction of its own still being completed would hide
  // a committed checkpoint, and resuming before it would send a batch twice.
  for await (const message of readTopic(connection, topic, { settleMs })) {
    if (message.key?.toString() !== id) continue;
    const problem = !message.transactional ? 'not written in a transaction' : message.value === null ? 'a tombstone' : undefined;
    const parsed = problem === undefined ? parseCheckpoint(message.value!.toString()) : problem;
    if (typeof parsed === 'string') ignored.push({ partition: message.partition, offset: message.offset, reason: parsed });
    else saved = parsed;
  }
  return { saved, ignored };
}

const NIGHT = /^\d{8}$/;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A saved checkpoint from its JSON text, or what is wrong with it. */
export function parseCheckpoint(text: string): SavedCheckpoint | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const { checkpoint, stores, alerts, at, userBytes, userAlerts } = value as Record<string, unknown>;
  if (checkpoint === null || typeof checkpoint !== 'object' || Array.isArray(checkpoint)) return "no 'checkpoint' object";
  for (const [night, seq] of Object.entries(checkpoint)) {
    if (!NIGHT.test(night) || !isCount(seq)) return `'checkpoint' has ${JSON.stringify(night)}: ${JSON.stringify(seq)}, not a night and a sequence`;
  }
  if (stores === null || typeof stores !== 'object' || Array.isArray(stores) || !Object.values(stores).every((v) => typeof v === 'string')) return "no 'stores' object of strings";
  if (!isCount(alerts)) return "'alerts' is not a count";
  if (typeof at !== 'string') return "'at' is not a time";
  const usage = userBytes === undefined ? undefined : parseQuotaUsage(userBytes);
  if (typeof usage === 'string') return usage;
  const sent = userAlerts === undefined ? undefined : parseQuotaUsage(userAlerts, 'userAlerts');
  if (typeof sent === 'string') return sent;
  return { checkpoint: checkpoint as Checkpoint, stores: stores as Record<string, string>, alerts, at, ...(usage === undefined ? {} : { userBytes: usage }), ...(sent === undefined ? {} : { userAlerts: sent }) };
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
