// The Confluent wire format on the distribution's topics (docs/architecture.md, Wire contract):
// which topics have it (DISTRIBUTION_FORMAT, DISTRIBUTION_FORMAT_TOPICS), and the registry ids of
// their schemas, subject `<topic>-value`. A batch's new schemas are registered after it is built
// and before its transaction sends anything, so no committed message names a schema the registry
// does not hold; a schema the registry refuses stops the service with nothing of the batch sent.
// The check holds within a survey's major version: a schema of another major version than the
// subject's latest is registered with the check lifted for that one call (a survey breaks
// compatibility on purpose between major versions), the subject's level put back right after.
import { latestSchema, redactUrl, registeredId, registerSchema, RegistryError, setSubjectCompatibility, subjectCompatibility, subjectExists } from '../avro/schema-registry.ts';
import type { RecordSchema } from '../avro/schema.ts';
import { FinkError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { valueFor } from '../config/topic-patterns.ts';
import { Outage } from '../service/outage.ts';
import type { Batch, MessageFormat } from './batch.ts';
import type { FormatSettings } from './settings.ts';
import { majorVersionOf, majorVersionOfText, surveyName, type MajorVersion } from './schema-major.ts';
import type { WireSchema } from './wire.ts';

/** The subject of a topic's values (Confluent's default TopicNameStrategy). */
export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

export class ConfluentTopics implements MessageFormat {
  readonly #settings: FormatSettings;
  readonly #log: Logger;
  readonly #formats = new Map<string, boolean>();
  /** Registry ids by subject, then by schema fingerprint. */
  readonly #ids = new Map<string, Map<string, number>>();
  /** Subjects this run has seen to exist (their compatibility level set if it created them). */
  readonly #subjects = new Set<string>();
  /** The survey and major version of each subject's latest version (undefined: it says none, or there is none). */
  readonly #majors = new Map<string, MajorVersion | undefined>();
  /** Undefined: a registry that does not answer stops the run (a one-off run says so rather than wait). */
  readonly #outage: Outage | undefined;

  /** `waitOutages`: a registry that does not answer is waited for, with backoff, as Kafka is. */
  constructor(settings: FormatSettings, log: Logger, options: { waitOutages?: boolean } = {}) {
    this.#settings = settings;
    this.#log = log;
    this.#outage = options.waitOutages === true ? new Outage(log, { subject: 'Schema registry', describe: (err) => (err as Error).message }) : undefined;
  }

  /**
   * After a failed pass: how long to wait when it failed on the registry not answering (no answer,
   * a timeout, a 5xx) and outages are waited for; undefined for anything else.
   */
  retryAfter(err: unknown): number | undefined {
    if (this.#outage === undefined || !(err instanceof RegistryError) || (err.status !== undefined && err.status < 500)) return undefined;
    return this.#outage.failed(err, 'unreachable', [], [redactUrl(this.#settings.registry ?? '')]);
  }

  confluent(topic: string): boolean {
    let confluent = this.#formats.get(topic);
    if (confluent === undefined) this.#formats.set(topic, (confluent = (valueFor(this.#settings.topics, topic) ?? this.#settings.default) === 'confluent'));
    return confluent;
  }

  idOf(topic: string, wire: WireSchema): number | undefined {
    return this.#ids.get(subjectOf(topic))?.get(wire.fingerprint);
  }

  /**
   * Registers the schemas that `batch` uses on confluent topics and the registry does not yet
   * know to this run, then writes their ids into the values built without one. Throws (nothing
   * sent) when the registry refuses a schema or cannot be asked.
   */
  async prepare(batch: Batch, signal?: AbortSignal): Promise<void> {
    for (const { wire, topic } of batch.schemas) {
      if (this.confluent(topic) && this.idOf(topic, wire) === undefined) await this.#register(topic, wire, signal);
    }
    if (batch.schemas.length > 0) this.#outage?.recovered();
    for (const { value, topic, wire } of batch.unstamped) {
      const id = this.idOf(topic, wire);
      if (id === undefined) throw new Error(`no registry id for schema ${wire.fingerprint} of topic ${topic} after registration`);
      // The id's place in the header that encodeConfluent wrote: after the magic byte, 4 bytes big-endian.
      value.writeUInt32BE(id, 1);
    }
  }

  async #register(topic: string, wire: WireSchema, signal: AbortSignal | undefined): Promise<void> {
    const url = this.#settings.registry;
    if (url === undefined) throw new FinkError(`topic ${topic} is in the confluent format but DISTRIBUTION_SCHEMA_REGISTRY is not set`);
    const subject = subjectOf(topic);
    const level = this.#settings.compatibility;
    /** Set after the first version instead: Apicurio refuses NONE (removing its rule) on a subject it does not hold yet. */
    const levelAfter = this.#subjects.has(subject) ? false : await this.#firstUse(url, subject, signal);
    const major = majorVersionOf(wire.schema);
    const latest = this.#majors.get(subject);
    const lift = level !== 'NONE' && major !== undefined && latest !== undefined && !sameMajor(major, latest);
    let id: number;
    try {
      id = lift ? await this.#registerUnchecked(url, topic, wire.key.toString('utf8'), major, signal) : await registerSchema(url, subject, wire.key.toString('utf8'), { signal });
    } catch (err) {
      if (err instanceof RegistryError && err.status === 409) throw refusal(err, topic, subject, wire.schema);
      throw err;
    }
    // The first version is checked against nothing: the level set now holds for every later one.
    if (levelAfter) await setSubjectCompatibility(url, subject, level, { signal });
    // A schema of a major version other than the latest's may have become the latest (or was an older version already held): ask.
    if (!this.#majors.has(subject)) this.#majors.set(subject, major);
    else if (major === undefined || latest === undefined || !sameMajor(major, latest)) this.#majors.set(subject, majorVersionOfText((await latestSchema(url, subject, { signal })) ?? ''));
    let bySubject = this.#ids.get(subject);
    if (bySubject === undefined) this.#ids.set(subject, (bySubject = new Map()));
    bySubject.set(wire.fingerprint, id);
    this.#log('info', 'schema registered', { subject, id, fingerprint: wire.fingerprint });
  }

  /**
   * The first time this run uses `subject`: sets its level if the registry does not hold it yet,
   * or learns the major version of its latest version. Whether the level is to be set after the
   * first version instead.
   */
  async #firstUse(url: string, subject: string, signal: AbortSignal | undefined): Promise<boolean> {
    const level = this.#settings.compatibility;
    let levelAfter = false;
    if (await subjectExists(url, subject, { signal })) {
      this.#majors.set(subject, majorVersionOfText((await latestSchema(url, subject, { signal })) ?? ''));
    } else {
      try {
        await setSubjectCompatibility(url, subject, level, { signal });
      } catch (err) {
        if (!(err instanceof RegistryError && err.status === 404)) throw err;
        levelAfter = true;
      }
      this.#log('info', 'schema registry subject created', { subject, compatibility: level });
    }
    this.#subjects.add(subject);
    return levelAfter;
  }

  /**
   * Registers a schema of a new major version under level NONE, the subject's level put back after
   * it whatever happened: the one it had (an operator may have set it by hand), else the configured
   * one. A subject already at NONE is registered as it is; a schema it already holds (an older
   * major version replayed) is not registered again.
   */
  async #registerUnchecked(url: string, topic: string, text: string, major: MajorVersion, signal: AbortSignal | undefined): Promise<number> {
    const subject = subjectOf(topic);
    const held = await registeredId(url, subject, text, { signal });
    if (held !== undefined) return held;
    const level = (await subjectCompatibility(url, subject, { signal })) ?? this.#settings.compatibility;
    if (level === 'NONE') return await registerSchema(url, subject, text, { signal });
    await setSubjectCompatibility(url, subject, 'NONE', { signal });
    let id: number;
    try {
      id = await registerSchema(url, subject, text, { signal });
    } finally {
      // Without the stop signal: a run that stops mid-registration still puts its level back (the call's timeout bounds it).
      await setSubjectCompatibility(url, subject, level);
    }
    this.#log('info', `new major version ${major.major} of the ${surveyName(major.survey)} schema on ${topic}: registered without the compatibility check, ${level} again after it`, { subject, id });
    return id;
  }
}

function sameMajor(a: MajorVersion, b: MajorVersion): boolean {
  return a.survey === b.survey && a.major === b.major;
}

/** The one line of a refused schema: the subject, the fields the registry's answer points at, its reason. */
function refusal(err: RegistryError, topic: string, subject: string, schema: RecordSchema): FinkError {
  const answer = err.message.replace(/^.*?answered 409 \(/, '').replace(/\)$/, '');
  let reason = answer;
  try {
    reason = String((JSON.parse(answer) as { message?: unknown }).message ?? answer);
  } catch {
    // The answer was cut to 200 characters, or is not JSON: its message as far as it goes.
    reason = /"message"\s*:\s*"([^"]*)/.exec(answer)?.[1] ?? answer;
  }
  const fields = [...new Set([...reason.matchAll(/\/fields\/\d+(?:\/[\w/]*)?/g)].map((m) => fieldAt(schema, m[0])).filter((f) => f !== undefined))];
  const named = fields.length === 0 ? 'a field the answer does not name' : `field ${fields.join(', field ')}`;
  return new FinkError(`the schema registry refused a new schema of topic ${topic} (subject ${subject}, ${named}): ${reason.replace(/\s+/g, ' ').slice(0, 300)}; nothing of its batch was sent. Make the schema change compatible, or change the subject's compatibility level in the registry`, { code: 'FINK_SCHEMA_REGISTRY' });
}

/** The dotted name of the field at a JSON pointer such as /fields/3/type/fields/1 of `schema` (undefined: not a field). */
export function fieldAt(schema: RecordSchema, pointer: string): string | undefined {
  const names: string[] = [];
  let node: unknown = schema;
  const steps = pointer.split('/').filter((s) => s !== '');
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (node === null || typeof node !== 'object') break;
    node = Array.isArray(node) ? node[Number(step)] : (node as Record<string, unknown>)[step];
    if (steps[i - 1] === 'fields' && node !== null && typeof node === 'object' && typeof (node as { name?: unknown }).name === 'string') names.push((node as { name: string }).name);
  }
  return names.length === 0 ? undefined : names.join('.');
}
