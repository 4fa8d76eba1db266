// A science log written by a test (SCIENCE_STORE=kafka): its topics created, the schemas put in
// the compacted schemas topic before any alert that uses them, and simulated alerts written in
// transactions, keyed and partitioned by object as the log's writers do. Independent of the
// product's log writer on purpose: the group tests check the distribution against a log made here.
import type { Survey } from '../../src/alert/survey.ts';
import type { KafkaConnection } from '../../src/kafka/client-options.ts';
import { partitionOf } from '../../src/kafka/partitioner.ts';
import { ensureTopic } from '../../src/kafka/topics.ts';
import { TransactionalSession, type Message } from '../../src/kafka/transactional-session.ts';
import { decodeLogAlert, encodeLogAlert, logKey, schemaTopic, scienceTopic, type LoggedAlert } from '../../src/sciencedb/log-format.ts';
import { readTopic, TopicMissingError } from '../../src/kafka/topic-reader.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import type { AnyProfile } from '../../src/sciencedb/simulation.ts';
import type { NewAlert } from '../../src/sciencedb/store.ts';

export const LOG_PARTITIONS = 12;

/** Creates the science log's topics of `prefix` (the surveys' and the schemas'). */
export async function createScienceLog(connection: KafkaConnection, prefix: string, partitions = LOG_PARTITIONS, surveys: readonly Survey[] = ['ztf', 'lsst']): Promise<void> {
  for (const survey of surveys) await ensureTopic(connection, scienceTopic(prefix, survey), { partitions, replicationFactor: 1, configs: { 'max.message.bytes': String(8 << 20) } });
  await ensureTopic(connection, schemaTopic(prefix), { partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } });
}

/** `count` alerts of a seeded simulation (ztf-light by default), in order. */
export function simulatedAlerts(seed: number, night: string, count: number, profile: AnyProfile = 'ztf-light'): NewAlert[] {
  const sim = createSimulation({ profile, seed, night });
  return Array.from({ length: count }, () => sim.next());
}

/** A writer of the log under `prefix` with its own transactional id. */
export class ScienceLogWriter {
  readonly #session: TransactionalSession;
  readonly #prefix: string;
  readonly #partitions: number;
  readonly #schemasWritten = new Set<string>();

  constructor(connection: KafkaConnection, prefix: string, id: string, partitions = LOG_PARTITIONS) {
    this.#session = new TransactionalSession({ connection, transactionalId: id, clientId: id });
    this.#prefix = prefix;
    this.#partitions = partitions;
  }

  /** The record of an alert as the log holds it. */
  message(alert: NewAlert): Message {
    return { topic: scienceTopic(this.#prefix, alert.survey), key: logKey(alert), value: encodeLogAlert(alert, Date.now()), partition: partitionOf(alert.objectKey, this.#partitions) };
  }

  /** Writes `alerts` in transactions of `perTransaction`, each one's new schemas first (in a transaction of their own). */
  async write(alerts: readonly NewAlert[], perTransaction = 500): Promise<void> {
    if (!this.#session.isOpen) await this.#session.open();
    const schemas: Message[] = [];
    for (const a of alerts) {
      for (const [id, json] of [[a.schemaId, a.schemaJson], ...(a.added === null ? [] : [[a.added.schemaId, a.added.schemaJson]])] as [string, string][]) {
        if (this.#schemasWritten.has(id)) continue;
        this.#schemasWritten.add(id);
        schemas.push({ topic: schemaTopic(this.#prefix), partition: 0, key: Buffer.from(id), value: Buffer.from(json) });
      }
    }
    if (schemas.length > 0) {
      await this.#session.send([schemas]);
      await this.#session.commit();
    }
    for (let i = 0; i < alerts.length; i += perTransaction) {
      await this.#session.send([alerts.slice(i, i + perTransaction).map((a) => this.message(a))]);
      await this.#session.commit();
    }
  }

  /** Writes raw records (a record that is not an alert, for instance) in one transaction. */
  async writeRaw(messages: readonly Message[]): Promise<void> {
    if (!this.#session.isOpen) await this.#session.open();
    await this.#session.send([messages]);
    await this.#session.commit();
  }

  async close(): Promise<void> {
    await this.#session.close();
  }
}

/** Every alert of `survey` in the log under `prefix`, as a read_committed reader finds them (none while its topic is not created). */
export async function loggedAlerts(connection: KafkaConnection, prefix: string, survey: Survey): Promise<LoggedAlert[]> {
  const topic = scienceTopic(prefix, survey);
  const out: LoggedAlert[] = [];
  try {
    for await (const m of readTopic(connection, topic)) out.push(decodeLogAlert(survey, m.value!, `${topic}[${m.partition}]@${m.offset}`));
  } catch (err) {
    if (err instanceof TopicMissingError) return [];
    throw err;
  }
  return out;
}
