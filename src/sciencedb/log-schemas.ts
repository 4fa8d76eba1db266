// The science log's schemas as a reader finds them: the compacted schemas topic (key: the schema's
// fingerprint, value: its JSON text), written before any alert that uses them. A reader keeps what
// it has read and reads the topic again, up to its stable end, only when it meets a fingerprint it
// does not know: the writers' order makes that read find it.
import type { KafkaConnection } from '../kafka/client-options.ts';
import { readTopic } from '../kafka/topic-reader.ts';
import { FinkError } from '../errors.ts';
import { schemaTopic } from './log-format.ts';

/** How long a read of the schemas topic waits for a just-committed transaction's markers. */
const SETTLE_MS = 5000;

export class LogSchemas {
  readonly #connection: KafkaConnection;
  readonly #topic: string;
  readonly #known = new Map<string, string>();

  constructor(connection: KafkaConnection, prefix: string) {
    this.#connection = connection;
    this.#topic = schemaTopic(prefix);
  }

  get topic(): string {
    return this.#topic;
  }

  /** The JSON text of a schema already read; an Error for one never read (call `ensure` first). */
  json(fingerprint: string): string {
    const json = this.#known.get(fingerprint);
    if (json === undefined) throw new FinkError(`schema ${fingerprint} was not read from ${this.#topic}`, { code: 'FINK_SCHEMA_MISSING' });
    return json;
  }

  /**
   * Makes sure every fingerprint of `wanted` is known, reading the schemas topic again if one is
   * not. A fingerprint that the topic does not hold either is an error naming where it was met
   * (`whereOf`: topic/partition/offset of the first alert that uses it).
   */
  async ensure(wanted: Iterable<string>, whereOf: (fingerprint: string) => string): Promise<void> {
    const unknown = new Set<string>();
    for (const f of wanted) if (!this.#known.has(f)) unknown.add(f);
    if (unknown.size === 0) return;
    for await (const m of readTopic(this.#connection, this.#topic, { settleMs: SETTLE_MS })) {
      if (m.key === null || m.value === null) continue;
      this.#known.set(m.key.toString('utf8'), m.value.toString('utf8'));
    }
    for (const f of unknown) {
      if (!this.#known.has(f)) throw new FinkError(`schema ${f} of the alert at ${whereOf(f)} is not in ${this.#topic}: the science log's writers put a schema there before any alert that uses it, so this record was written by something else or the schemas topic lost it`, { code: 'FINK_SCHEMA_MISSING' });
    }
  }
}
