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
import { accepts, type Filter } from './filters.ts';
import type { TopicPlan } from './topics.ts';
import type { SendableAlert, WireSchema, WireSchemas } from './wire.ts';

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
  const builder = new BatchBuilder(targets, wire, oversize, format);
  // The user filters' targets are tested in a loop of their own (userMatches): a hundred conditions
  // in the same loop as the topics' filters made V8 compile this function again and again, each
  // time larger, as the user targets' paths warmed up (BENCHMARKS.md, User filters).
  const topics: number[] = [];
  const users: number[] = [];
  targets.forEach((t, i) => (t.plan.condition === undefined ? topics : users).push(i));
  for (const alert of alerts) {
    builder.values.clear();
    for (let i = 0; i < topics.length; i++) {
      const t = topics[i]!;
      const filter = targets[t]!.plan.filter;
      if (filter !== null && !builder.accepted(filter, alert)) continue;
      builder.add(alert, t);
    }
    if (users.length > 0) userMatches(alert, targets, users, builder);
  }
  return builder.batch;
}

/** The messages of the user targets whose condition matches the alert, in their order. */
function userMatches(alert: SendableAlert, targets: readonly TopicTarget[], users: readonly number[], builder: BatchBuilder): void {
  /** The alert's row, built once for all the user conditions of its survey, and only if one asks. */
  let row: Row | undefined;
  // Indexed: a for-of made an iterator result per condition and alert whenever V8 ran this
  // function unoptimised, as it does again after each deoptimisation (10 MB a 10,000-alert run).
  for (let i = 0; i < users.length; i++) {
    const t = users[i]!;
    const condition = targets[t]!.plan.condition!;
    if (condition.survey !== alert.survey) continue;
    row ??= rowOf(alert.survey, alert.fields);
    if (condition.testRow(row)) builder.add(alert, t);
  }
}

/** One batch's messages as they are added, and what it keeps to add them: the schemas reported, the values encoded. */
class BatchBuilder {
  readonly batch: Batch = { messages: [], schemas: [], filterErrors: [], oversize: [], unstamped: [] };
  /**
   * The alert's values by schema: a value is encoded once for all the topics of the same content
   * (user filters of light content matching the same alert re-encoded it for each). A confluent
   * value is made from it per message: its id may be stamped later, so it is never shared.
   */
  readonly values = new Map<WireSchema, Buffer>();
  /** The schemas already reported, by topic: looked up by identity, no key built per message; the registry id of a confluent topic's (UNKNOWN_ID for the others). */
  readonly #seen = new Map<string, Map<WireSchema, number | undefined>>();
  /** Each target's format, asked once a batch rather than once a message. */
  readonly #confluent: boolean[];
  readonly #targets: readonly TopicTarget[];
  readonly #wire: WireSchemas;
  readonly #oversize: 'stop' | 'skip';
  readonly #format: MessageFormat | undefined;

  constructor(targets: readonly TopicTarget[], wire: WireSchemas, oversize: 'stop' | 'skip', format: MessageFormat | undefined) {
    this.#targets = targets;
    this.#wire = wire;
    this.#oversize = oversize;
    this.#format = format;
    this.#confluent = targets.map((t) => format?.confluent(t.plan.topic) === true);
  }

  /** Whether a topic's filter takes the alert; a filter that throws does not, and its error is kept. */
  accepted(filter: Filter, alert: SendableAlert): boolean {
    try {
      return accepts(filter, alert);
    } catch (err) {
      this.batch.filterErrors.push({ filter: filter.name, survey: alert.survey, alertId: alert.alertId, error: (err as Error).message });
      return false;
    }
  }

  /** The alert's message to target `t` (unless its quota or the oversize policy leaves it out). */
  add(alert: SendableAlert, t: number): void {
    const { plan, partitions, maxMessageBytes } = this.#targets[t]!;
    const batch = this.batch;
    const schema = this.#wire.forAlert(alert, plan.drop);
    let reported = this.#seen.get(plan.topic);
    if (reported === undefined) this.#seen.set(plan.topic, (reported = new Map()));
    let id = reported.get(schema);
    if (id === undefined && !reported.has(schema)) {
      reported.set(schema, (id = this.#confluent[t] ? this.#format!.idOf(plan.topic, schema) : UNKNOWN_ID));
      batch.schemas.push({ wire: schema, topic: plan.topic, selecting: plan.drop.length > 0 });
    }
    let key = schema.key;
    let value = this.values.get(schema);
    if (value === undefined) this.values.set(schema, (value = schema.encode(alert)));
    if (this.#confluent[t]) {
      // The object's key, as the partition is computed from it: any client partitioning by key agrees.
      key = Buffer.from(alert.objectKey);
      value = encodeConfluent(id ?? UNKNOWN_ID, value);
      if (id === undefined) batch.unstamped.push({ value, topic: plan.topic, wire: schema });
    }
    const bytes = key.length + value.length;
    if (!fits(bytes, maxMessageBytes)) {
      if (this.#oversize === 'skip') {
        batch.oversize.push({ alert, topic: plan.topic, bytes, limit: maxMessageBytes });
        return;
      }
      throw new FinkError(`alert ${alert.alertId} (${alert.objectKey}${alert.survey === 'ztf' ? '' : `, ${alert.survey}`}) is ${bytes} bytes, more than topic ${plan.topic} accepts (max.message.bytes=${maxMessageBytes}); nothing of its batch was committed. Raise the topic's max.message.bytes, or set DISTRIBUTION_OVERSIZE=skip to skip such alerts with a record`);
    }
    if (plan.condition?.admit !== undefined && !plan.condition.admit(alert.night, bytes)) return;
    batch.messages.push({ topic: plan.topic, key, value, partition: partitionOf(alert.objectKey, partitions) });
  }
}
