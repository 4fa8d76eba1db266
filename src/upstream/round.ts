// One fetch round's messages turned into what the science database takes: each message with the
// position after it and its alerts (none for a dead letter), the dead letters beside them. Nothing
// is recorded, logged or counted here: the caller does, before the round is stored.
import type { FetchedPartition } from '../kafka/topic-reader.ts';
import type { PositionedMessage } from '../sciencedb/positions.ts';
import type { DeadLetter } from './dead-letters.ts';
import { decodeConfluent } from '../avro/confluent-wire.ts';
import { decodeMessage, perMessage, type Decoders } from './decode.ts';
import type { UpstreamFormat } from './settings.ts';

export interface DecodedRound {
  /** In fetch order: one per message, plus a position-only one where a partition moved past no message. */
  messages: PositionedMessage[];
  deadLetters: DeadLetter[];
  /** Partitions held at a message whose schema is being fetched. */
  held: number;
  /** Upstream messages handled (stored or dead letters), per topic. */
  read: Map<string, number>;
}

/** True while the schema of this lsst message is being fetched; its errors are left to decodeMessage, unless they are not the message's. */
function awaitingSchema(value: Buffer | null, decoders: Decoders): boolean {
  if (value === null) return false;
  try {
    return decoders.registry.peek(decodeConfluent(value).schemaId) === undefined;
  } catch (err) {
    // Not the wire format, an unknown or refused schema: the message's own, said by decodeMessage.
    if (perMessage(err)) return false;
    throw err;
  }
}

/** What the round needs of a partition: how its messages are framed, and where it was read from. */
export interface RoundPartitions {
  get(topic: string, partition: number): { format: UpstreamFormat; next: bigint } | undefined;
}

export async function decodeRound(parts: readonly FetchedPartition[], assignment: RoundPartitions, decoders: Decoders): Promise<DecodedRound> {
  const round: DecodedRound = { messages: [], deadLetters: [], held: 0, read: new Map() };
  for (const part of parts) {
    const a = assignment.get(part.topic, part.partition);
    if (a === undefined) continue;
    let held = false;
    for (const m of part.messages) {
      // A schema still being asked of the registry holds its partition at this message (read
      // again next round); the other partitions go on.
      if (a.format === 'lsst' && awaitingSchema(m.value, decoders)) {
        held = true;
        round.held++;
        break;
      }
      const decoded = await decodeMessage(a.format, m.value, decoders);
      round.read.set(m.topic, (round.read.get(m.topic) ?? 0) + 1);
      if ('reason' in decoded) round.deadLetters.push({ topic: m.topic, partition: m.partition, offset: m.offset, code: decoded.code, reason: decoded.reason, value: m.value });
      round.messages.push({ topic: m.topic, partition: m.partition, next: m.offset + 1n, alerts: 'reason' in decoded ? [] : decoded.alerts });
    }
    // Control batches and aborted transactions move the position without a message.
    const last = part.messages.at(-1);
    if (!held && part.next > (last === undefined ? a.next : last.offset + 1n)) round.messages.push({ topic: part.topic, partition: part.partition, next: part.next, alerts: [] });
  }
  return round;
}
