// An alert as its survey puts it on the wire. ZTF: a complete Avro container file, the writer
// schema in its header, one alert per message. Rubin: the Confluent wire format, the schema
// registered first (subject <topic>-value, as Confluent's serializers name it) and its id framed
// before the schemaless datum.
import { encodeConfluent } from '../avro/confluent-wire.ts';
import { encodeContainer } from '../avro/container.ts';
import type { AvroSchema } from '../avro/schema.ts';
import { registerSchema } from '../avro/schema-registry.ts';
import type { NewAlert } from '../sciencedb/store.ts';

export class SurveyEncoder {
  readonly #registryUrl: string;
  readonly #schemas = new Map<string, AvroSchema>();
  /** By topic, then by schema text: no key is built per message (the text is about 24 KB). */
  readonly #ids = new Map<string, Map<string, number>>();

  /** `registryUrl`: the Confluent-compatible API of the schema registry (Rubin's alerts only). */
  constructor(registryUrl: string) {
    this.#registryUrl = registryUrl;
  }

  async encode(alert: NewAlert, topic: string): Promise<Buffer> {
    if (alert.survey === 'lsst') return encodeConfluent(await this.#schemaId(topic, alert.schemaJson), alert.datum);
    let schema = this.#schemas.get(alert.schemaJson);
    if (schema === undefined) {
      schema = JSON.parse(alert.schemaJson) as AvroSchema;
      this.#schemas.set(alert.schemaJson, schema);
    }
    return encodeContainer(schema, [alert.datum]);
  }

  /** The registry's id of the schema under the topic's subject: registered once per run. */
  async #schemaId(topic: string, schemaText: string): Promise<number> {
    let byText = this.#ids.get(topic);
    if (byText === undefined) this.#ids.set(topic, (byText = new Map()));
    let id = byText.get(schemaText);
    if (id === undefined) {
      id = await registerSchema(this.#registryUrl, `${topic}-value`, schemaText);
      byText.set(schemaText, id);
    }
    return id;
  }
}
