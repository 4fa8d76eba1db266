// The writer schemas of the lsst format, by their registry id: asked of the schema registry once,
// then kept in memory and on disk (UPSTREAM_STATE_DIR/schemas/<id>.avsc, the text as the registry
// returned it), so that a restart decodes while the registry is away. An id names one schema for
// good in a registry, so a cached text never goes stale. A text is checked (JSON, a record, the
// bounded compile) before it is kept: a hostile or broken schema is its messages' dead letter, and
// a cached file that fails the check (a torn or edited file) is asked for again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchSchemaById, redactUrl, RegistryError, SCHEMA_NOT_FOUND } from '../avro/schema-registry.ts';
import { Backoff } from '../backoff.ts';
import { FinkError } from '../errors.ts';
import { ifExists, replaceFile } from '../files.ts';
import type { Logger } from '../log.ts';
import { pause } from '../pause.ts';
import { SchemaCache } from '../sciencedb/decode.ts';

/** An id the registry does not know (error_code 40403), after the retries: its messages are dead letters. */
export class UnknownSchemaError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_UNKNOWN_SCHEMA' });
    this.name = 'UnknownSchemaError';
  }
}

/** The registry's text for an id is not a schema of an alert: its messages are dead letters. */
export class RefusedSchemaError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_SCHEMA_REGISTRY' });
    this.name = 'RefusedSchemaError';
  }
}

/** The registry's URL answers, but not as a registry (a 404 without 40403): the run's setting is wrong. */
export class RegistryMisconfiguredError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_SCHEMA_REGISTRY' });
    this.name = 'RegistryMisconfiguredError';
  }
}

export interface SchemaCacheOptions {
  /** Asks for an unknown id this many more times before giving up. */
  retries: number;
  /** The first wait between two asks, doubled each time (the registry may lag behind the producer). */
  firstDelayMs?: number;
  /** The longest wait while the registry cannot be reached (retried until it answers or the stream stops). */
  maxDelayMs?: number;
  /** One request's timeout. */
  timeoutMs?: number;
  /** The largest answer taken from the registry, in bytes. */
  maxBytes?: number;
  /** A one-off run stops on a misconfigured registry URL instead of waiting for an operator. */
  stopOnMisconfiguration?: boolean;
  log: Logger;
  signal?: AbortSignal;
}

const GIVEN_UP_MS = 60_000;

/** Throws RefusedSchemaError unless `text` is a schema the decoder takes (JSON, an alert record, within the compile's bounds). */
function checkSchemaText(id: number, text: string): void {
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch {
    throw new RefusedSchemaError(`schema id ${id}: the registry's text is not JSON`);
  }
  try {
    new SchemaCache().get(text, () => schema);
  } catch (err) {
    if (err instanceof FinkError) throw new RefusedSchemaError(`schema id ${id}: ${err.message}`);
    throw err;
  }
}


export class RegistrySchemaCache {
  readonly #url: string | undefined;
  readonly #dir: string;
  readonly #options: SchemaCacheOptions;
  readonly #texts = new Map<number, string>();
  readonly #refused = new Map<number, RefusedSchemaError>();
  /** Ids being asked of the registry in the background (see peek), and what the ask ended with. */
  readonly #asks = new Map<number, { failed: boolean; error: unknown }>();
  /** Ids given up on, until when: the next message with such an id does not wait all the retries again. */
  readonly #givenUp = new Map<number, number>();

  constructor(url: string | undefined, stateDir: string, options: SchemaCacheOptions) {
    this.#url = url;
    this.#dir = join(stateDir, 'schemas');
    this.#options = options;
  }

  file(id: number): string {
    return join(this.#dir, `${id}.avsc`);
  }

  /** The text of schema `id`, checked: from memory, the disk, or the registry (then kept in both). */
  async text(id: number): Promise<string> {
    const known = this.#texts.get(id) ?? this.#fromDisk(id);
    if (known !== undefined) return known;
    const refused = this.#refused.get(id);
    if (refused !== undefined) throw refused;
    const text = await this.#ask(id);
    try {
      checkSchemaText(id, text);
    } catch (err) {
      // An id names one schema for good: refused once, refused for the run.
      if (err instanceof RefusedSchemaError) this.#refused.set(id, err);
      throw err;
    }
    replaceFile(this.file(id), text, 0o644, { durable: true });
    this.#texts.set(id, text);
    return text;
  }

  /**
   * The text of schema `id` if it is at hand (memory, disk); otherwise undefined, the registry asked
   * in the background, so that only the messages of that id wait, not the whole stream. Once that
   * ask fails, the next peek throws its error (an unknown id, a refused schema, a misconfiguration).
   */
  peek(id: number): string | undefined {
    const known = this.#texts.get(id);
    if (known !== undefined) return known;
    // An ask under way is looked at before the disk: a held partition peeks every round.
    const ask = this.#asks.get(id);
    if (ask?.failed === true) {
      this.#asks.delete(id);
      throw ask.error;
    }
    if (ask !== undefined) return undefined;
    const cached = this.#fromDisk(id);
    if (cached !== undefined) return cached;
    const state = { failed: false, error: undefined as unknown };
    this.#asks.set(id, state);
    this.text(id).then(
      () => this.#asks.delete(id),
      (err: unknown) => Object.assign(state, { failed: true, error: err }),
    );
    return undefined;
  }


  #fromDisk(id: number): string | undefined {
    // Not cached yet: the registry is asked. A file that is there but cannot be read is not
    // fetched again behind the user's back: its error says why.
    const text = ifExists(() => readFileSync(this.file(id), 'utf8'));
    if (text === undefined) return undefined;
    try {
      checkSchemaText(id, text);
    } catch (err) {
      this.#options.log('warn', 'cached schema fails its check: asking the registry again', { id, file: this.file(id), reason: (err as Error).message });
      return undefined;
    }
    this.#texts.set(id, text);
    return text;
  }

  async #ask(id: number): Promise<string> {
    const { retries, firstDelayMs = 1000, maxDelayMs = 15_000, log, signal } = this.#options;
    if (this.#url === undefined) throw new UnknownSchemaError(`schema id ${id} is not in the cache and no UPSTREAM_SCHEMA_REGISTRY is set`);
    const shown = redactUrl(this.#url);
    const givenUp = this.#givenUp.get(id);
    if (givenUp !== undefined && givenUp > Date.now()) throw new UnknownSchemaError(`schema id ${id} is unknown to the registry at ${shown} (given up less than ${GIVEN_UP_MS / 1000} s ago)`);
    let unknownTries = 0;
    let unavailableSaid = false;
    const backoff = new Backoff(firstDelayMs, maxDelayMs);
    // A function, not a test written twice: `fink stop stream2science` may come during the await.
    const stopIfAsked = () => {
      if (signal?.aborted === true) throw new FinkError(`stopped while waiting for schema id ${id} from the registry`);
    };
    for (;;) {
      stopIfAsked();
      const delay = backoff.next();
      try {
        const text = await fetchSchemaById(this.#url, id, { signal, timeoutMs: this.#options.timeoutMs, maxBytes: this.#options.maxBytes });
        if (unavailableSaid) log('info', 'schema registry is back', { url: shown });
        return text;
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        stopIfAsked();
        if (err.status === 404 && err.errorCode === SCHEMA_NOT_FOUND) {
          if (unknownTries++ >= retries) {
            this.#givenUp.set(id, Date.now() + GIVEN_UP_MS);
            throw new UnknownSchemaError(`schema id ${id} is unknown to the registry at ${shown} (asked ${unknownTries} times)`);
          }
          log('warn', 'schema id unknown to the registry: asking again', { id, in_ms: delay });
        } else {
          unavailableSaid = this.#unavailable(id, err, unavailableSaid);
        }
      }
      await pause(delay, signal);
    }
  }

  /** Says once why the registry does not give the schema: away, failing, or not a registry at that URL. */
  #unavailable(id: number, err: RegistryError, said: boolean): boolean {
    const shown = redactUrl(this.#url!);
    if (err.status === 404) {
      // Only the registry's own 40403 says an id is unknown; any other 404 is a wrong URL or a proxy path.
      const line = `the schema registry URL ${shown} answers 404 without Confluent's error_code 40403 for schema id ${id}: not a registry's API path (check UPSTREAM_SCHEMA_REGISTRY)`;
      if (this.#options.stopOnMisconfiguration === true) throw new RegistryMisconfiguredError(line);
      if (!said) this.#options.log('error', 'schema registry misconfigured: waiting for it', { id, url: shown, reason: line });
    } else if (!said) {
      // Away or failing: not the message's fault, so the stream waits for the registry.
      this.#options.log('warn', 'schema registry unavailable: waiting for it', { id, url: shown, reason: err.message });
    }
    return true;
  }
}
