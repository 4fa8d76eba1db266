// The topics as the page sees them: one read_committed reader per topic follows it from a little
// before its end and never falls further behind than that (it jumps ahead rather than catch up),
// and only the newest few messages since the last update are decoded: the page gets at most
// `keep` alerts per topic an update, however fast they flow, so a thousand alerts a second cost
// the console a handful of fetches and decodes, not a thousand.
import { kafkaBackoff } from '../backoff.ts';
import type { MessageDecoder } from '../consumer/message-decoder.ts';
import { DecodeError } from '../consumer/schema-file-decoder.ts';
import { messageWhere } from '../consumer/messages.ts';
import type { KafkaConnection } from '../kafka/client-options.ts';
import { readTopic, type ConsumedMessage } from '../kafka/topic-reader.ts';
import { pause } from '../pause.ts';
import { holdAlert, rowMessage, type HeldAlert, type HeldAlerts, type RowMessage } from './held.ts';

export interface TopicCounts {
  /** Offsets committed since the console started (the stable ends' sum moved by this much; transaction markers take offsets too). */
  committed: number;
  /** Messages and key+value bytes the console read (a sample of the committed ones). */
  messages: number;
  bytes: number;
  /** Per partition, the highest offset read, and the stable end last seen. */
  latest: number[];
  ends: number[];
  /** Messages that did not decode, and the last reason. */
  decodeErrors: number;
  lastError: string | null;
  /** Reading has failed and is being retried (Kafka away, topic missing). */
  reading: 'ok' | 'retrying';
}

export class TopicFeed {
  readonly topic: string;
  readonly counts: TopicCounts = { committed: 0, messages: 0, bytes: 0, latest: [], ends: [], decodeErrors: 0, lastError: null, reading: 'ok' };
  #firstEnds: bigint | undefined;
  readonly #pending: ConsumedMessage[] = [];
  readonly #keep: number;

  constructor(topic: string, keep: number) {
    this.topic = topic;
    this.#keep = keep;
  }

  /** Follows the topic until `signal` aborts, starting `tail` messages before each partition's end; reading again after a failure. */
  async follow(connection: KafkaConnection, tail: number, signal: AbortSignal): Promise<void> {
    const backoff = kafkaBackoff();
    while (!signal.aborted) {
      try {
        const onStableEnds = (ends: readonly bigint[]) => {
          const sum = ends.reduce((a, b) => a + b, 0n);
          this.counts.ends = ends.map(Number);
          this.#firstEnds ??= sum;
          this.counts.committed = Math.max(this.counts.committed, Number(sum - this.#firstEnds));
        };
        // Small fetches: a live view needs the last few alerts, not megabytes of them.
        for await (const message of readTopic(connection, this.topic, { follow: true, signal, tail, onStableEnds, partitionMaxBytes: 1 << 20 })) {
          this.counts.reading = 'ok';
          backoff.reset();
          this.counts.messages++;
          this.counts.latest[message.partition] = Math.max(this.counts.latest[message.partition] ?? -1, Number(message.offset));
          this.counts.bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
          this.#pending.push(message);
          if (this.#pending.length > this.#keep) this.#pending.shift();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.counts.reading = 'retrying';
        this.counts.lastError = (err as Error).message;
        await pause(backoff.next(), signal);
      }
    }
  }

  /**
   * The alerts that arrived since the last call (the newest `keep` of them), decoded in their wire
   * format and held. A Confluent message whose schema id is still being asked of the registry stays
   * for the next call (the update never waits for the registry); an id the registry cannot give is
   * that message's decode error.
   */
  take(decoder: MessageDecoder, held: HeldAlerts): RowMessage[] {
    const rows: RowMessage[] = [];
    const waiting: ConsumedMessage[] = [];
    for (const message of this.#pending.splice(0)) {
      const where = messageWhere(this.topic, message);
      try {
        const decoded = decoder.decodeNow(message.key, message.value, where);
        if (decoded === undefined) {
          waiting.push(message);
          continue;
        }
        const { schema, record, datum } = decoded;
        // A copy: the message's bytes are a view into a whole fetch response.
        const value = Uint8Array.from(datum);
        const alert: HeldAlert = holdAlert({ id: `${this.topic}:${message.partition}:${message.offset}`, origin: where, topic: this.topic, timeMs: Number(message.timestamp), schema: schema.schema, type: schema.type, value }, record);
        held.add(alert);
        rows.push(rowMessage(alert));
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.counts.decodeErrors++;
        this.counts.lastError = err.message;
      }
    }
    // Before what arrived meanwhile, still within `keep`.
    this.#pending.unshift(...waiting);
    this.#pending.splice(0, Math.max(0, this.#pending.length - this.#keep));
    return rows;
  }
}
