// A batch of stored alerts turned into the messages of every topic, in one pass over the alerts:
// each topic's filter, the wire bytes (key: the writer schema; value: the datum), the partition from
// the object's key; a topic in the Confluent format has the object's key as key and the schema's
// registry id before the datum (docs/architecture.md, Wire contract). A batch may mix surveys: a filter sees only its own survey's alerts. Pure: what to do with filter errors, oversize alerts and new schemas is the
// caller's business, so the whole of it is testable without a broker.
import { partitionOf } from '../kafka/partitioner.ts';
import { encodeConfluent } from '../avro/confluent-wire.ts';
import { FinkError } from '../errors.ts';
import type { Message } from '../kafka/transactional-session.ts';
import { rowOf, type Row } from '../userfilter/row.ts';
import { accepts } from './filters.ts';
import type { TopicPlan } from './topics.ts';
import type { SendableAlert, WireSchema, WireSchemas } from './wire.ts';

/** Kafka's default max.message.bytes, for a topic whose own setting is not known. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** What a record batch adds around one record's key and value (batch and record headers). */
export const BATCH_OVERHEAD_BYTES = 200;
/** lz4 frames can grow incompressible data by up to this fraction. */
export const COMPRESSION_GROWTH = 0.01;

/** A topic as the batch builder sees it: its plan, how many partitions it has, what it accepts. */
export interface TopicTarget {
  plan: TopicPlan;
  partitions: number;
  maxMessageBytes: number;
}

export interface Batch {
  messages: Message[];
  /** The schemas its messages use, each the first time this batch uses it on its topic. */
  schemas: { wire: WireSchema; topic: string; selecting: boolean }[];
  filterErrors: { filter: string; survey: string; alertId: bigint; error: string }[];
  /** Messages left out as larger than their topic accepts (only with the `skip` policy). */
  oversize: OversizeAlert[];
  /** Confluent-format values whose schema id was not known when built: stamped once registered, before any is sent. */
  unstamped: Unstamped[];
}

/** Which topics are in the Confluent format, and the registry ids known so far (confluent-format.ts). */
export interface MessageFormat {
  confluent(topic: string): boolean;
  idOf(topic: string, wire: WireSchema): number | undefined;
}

export interface Unstamped {
  value: Buffer;
  topic: string;
  wire: WireSchema;
}

/** A schema id not known yet: the header's id is written once the registry gives it. */
const UNKNOWN_ID = 0;

export interface OversizeAlert {
  alert: SendableAlert;
  topic: string;
  bytes: number;
  limit: number;
}

/** Whether a message of `bytes` (key and value) fits a topic accepting `limit`, headers and compression included. */
export function fits(bytes: number, limit: number): boolean {
  return bytes + BATCH_OVERHEAD_BYTES + bytes * COMPRESSION_GROWTH <= limit;
}

export function buildBatch(alerts: readonly SendableAlert[], targets: readonly TopicTarget[], wire: WireSchemas, oversize: 'stop' | 'skip', format?: MessageFormat): Batch {
  const batch: Batch = { messages: [], schemas: [], filterErrors: [], oversize: [], unstamped: [] };
  /** The schemas already reported, by topic: looked up by identity, no key built per message; the registry id of a confluent topic's (UNKNOWN_ID for the others). */
  const seen = new Map<string, Map<WireSchema, number | undefined>>();
  /** Each target's format, asked once a batch rather than once a message. */
  const confluent = targets.map((t) => format?.confluent(t.plan.topic) === true);
  /**
   * The alert's values by schema: a value is encoded once for all the topics of the same content
   * (user filters of light content matching the same alert re-encoded it for each). A confluent
   * value is made from it per message: its id may be stamped later, so it is never shared.
   */
  const values = new Map<WireSchema, Buffer>();
  for (const alert of alerts) {
    values.clear();
    /** The alert's row, built once for all the user conditions of its survey, and only if one asks. */
    let row: Row | undefined;
    for (let t = 0; t < targets.length; t++) {
      const { plan, partitions, maxMessageBytes } = targets[t]!;
      if (plan.condition !== undefined) {
        if (plan.condition.survey !== alert.survey) continue;
        row ??= rowOf(alert.survey, alert.fields);
        if (!plan.condition.testRow(row)) continue;
      } else if (plan.filter !== null) {
        let match = false;
        try {
          match = accepts(plan.filter, alert);
        } catch (err) {
          batch.filterErrors.push({ filter: plan.filter.name, survey: alert.survey, alertId: alert.alertId, error: (err as Error).message });
        }
        if (!match) continue;
      }
      const schema = wire.forAlert(alert, plan.drop);
      const selecting = plan.drop.length > 0;
      let reported = seen.get(plan.topic);
      if (reported === undefined) seen.set(plan.topic, (reported = new Map()));
      let id = reported.get(schema);
      if (id === undefined && !reported.has(schema)) {
        reported.set(schema, (id = confluent[t] ? format!.idOf(plan.topic, schema) : UNKNOWN_ID));
        batch.schemas.push({ wire: schema, topic: plan.topic, selecting });
      }
      let key = schema.key;
      let value = values.get(schema);
      if (value === undefined) values.set(schema, (value = schema.encode(alert)));
      if (confluent[t]) {
        // The object's key, as the partition is computed from it: any client partitioning by key agrees.
        key = Buffer.from(alert.objectKey);
        value = encodeConfluent(id ?? UNKNOWN_ID, value);
        if (id === undefined) batch.unstamped.push({ value, topic: plan.topic, wire: schema });
      }
      const bytes = key.length + value.length;
      if (!fits(bytes, maxMessageBytes)) {
        if (oversize === 'skip') {
          batch.oversize.push({ alert, topic: plan.topic, bytes, limit: maxMessageBytes });
          continue;
        }
        throw new FinkError(`alert ${alert.alertId} (${alert.objectKey}${alert.survey === 'ztf' ? '' : `, ${alert.survey}`}) is ${bytes} bytes, more than topic ${plan.topic} accepts (max.message.bytes=${maxMessageBytes}); nothing of its batch was committed. Raise the topic's max.message.bytes, or set DISTRIBUTION_OVERSIZE=skip to skip such alerts with a record`);
      }
      if (plan.condition?.admit !== undefined && !plan.condition.admit(alert.night, bytes)) continue;
      batch.messages.push({ topic: plan.topic, key, value, partition: partitionOf(alert.objectKey, partitions) });
    }
  }
  return batch;
}
