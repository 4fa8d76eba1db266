// The writer schemas of the lsst format, by their registry id: asked of the schema registry once,
// then kept in memory and on disk (UPSTREAM_STATE_DIR/schemas/<id>.avsc, the text as the registry
// returned it), so that a restart decodes while the registry is away. An id names one schema for
// good in a registry, so a cached text never goes stale.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchSchemaById, RegistryError } from '../avro/schema-registry.ts';
import { Backoff } from '../backoff.ts';
import { FinkError } from '../errors.ts';
import { replaceFile } from '../files.ts';
import type { Logger } from '../log.ts';
import { pause } from '../pause.ts';

/** An id the registry does not know, after the retries: its messages are dead letters. */
export class UnknownSchemaError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_UNKNOWN_SCHEMA' });
    this.name = 'UnknownSchemaError';
  }
}

export interface SchemaCacheOptions {
  /** Asks for an unknown id this many more times before giving up. */
  retries: number;
  /** The first wait between two asks, doubled each time (the registry may lag behind the producer). */
  firstDelayMs?: number;
  /** The longest wait while the registry cannot be reached (retried until it answers or the stream stops). */
  maxDelayMs?: number;
  log: Logger;
  signal?: AbortSignal;
}

const GIVEN_UP_MS = 60_000;

export class RegistrySchemaCache {
  readonly #url: string | undefined;
  readonly #dir: string;
  readonly #options: SchemaCacheOptions;
  readonly #texts = new Map<number, string>();
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

  /** The text of schema `id`: from memory, the disk, or the registry (then kept in both). */
  async text(id: number): Promise<string> {
    const known = this.#texts.get(id) ?? this.#fromDisk(id);
    if (known !== undefined) return known;
    const text = await this.#ask(id);
    replaceFile(this.file(id), text, 0o644);
    this.#texts.set(id, text);
    return text;
  }

  #fromDisk(id: number): string | undefined {
    try {
      const text = readFileSync(this.file(id), 'utf8');
      this.#texts.set(id, text);
      return text;
    } catch (err) {
      // Not cached yet: the registry is asked. A file that is there but cannot be read is not
      // fetched again behind the user's back: its error says why.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async #ask(id: number): Promise<string> {
    const { retries, firstDelayMs = 1000, maxDelayMs = 15_000, log, signal } = this.#options;
    if (this.#url === undefined) throw new UnknownSchemaError(`schema id ${id} is not in the cache and no UPSTREAM_SCHEMA_REGISTRY is set`);
    const givenUp = this.#givenUp.get(id);
    if (givenUp !== undefined && givenUp > Date.now()) throw new UnknownSchemaError(`schema id ${id} is unknown to the registry at ${this.#url} (given up less than ${GIVEN_UP_MS / 1000} s ago)`);
    let unknownTries = 0;
    let unreachableSaid = false;
    const backoff = new Backoff(firstDelayMs, maxDelayMs);
    for (;;) {
      const delay = backoff.next();
      try {
        const text = await fetchSchemaById(this.#url, id);
        if (unreachableSaid) log('info', 'schema registry is back', { url: this.#url });
        return text;
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        if (err.status === 404) {
          if (unknownTries++ >= retries) {
            this.#givenUp.set(id, Date.now() + GIVEN_UP_MS);
            throw new UnknownSchemaError(`schema id ${id} is unknown to the registry at ${this.#url} (asked ${unknownTries} times)`);
          }
          log('warn', 'schema id unknown to the registry: asking again', { id, in_ms: delay });
        } else if (!unreachableSaid) {
          // Away or failing: not the message's fault, so the stream waits for the registry.
          log('warn', 'schema registry unavailable: waiting for it', { id, reason: err.message });
          unreachableSaid = true;
        }
      }
      if (signal?.aborted === true) throw new FinkError(`stopped while waiting for schema id ${id} from the registry`);
      await pause(delay, signal);
    }
  }
}
