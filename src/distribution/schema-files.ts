// The schema files (docs/architecture.md, Wire contract): every schema that goes out is written before its first message,
// beside DISTRIBUTION_SCHEMA under a name with its fingerprint, so that a consumer without the key
// can pick the file that matches. DISTRIBUTION_SCHEMA holds the newest full schema; a topic that
// drops fields also has `<base>-<topic>.avsc`, its newest.
import { existsSync } from 'node:fs';
import { replaceFile } from '../files.ts';
import { schemaFileFor } from '../avro/schema-file-name.ts';
import type { WireSchema } from './wire.ts';

// Readers never see half a file, and a symlink planted in the folder is never written through.
const writeAtomically = replaceFile;

export class SchemaFiles {
  readonly #base: string;
  /** Schemas already handled, by topic and fingerprint. */
  readonly #seen = new Set<string>();
  /** Each schema's file text, made once: a hundred user topics of the same light schema each write it. */
  readonly #texts = new WeakMap<WireSchema, string>();

  constructor(base: string) {
    this.#base = base;
  }

  /**
   * Writes what `wire` needs before its first message on `topic` (`selecting`: the topic drops
   * fields). A schema seen for the first time becomes the newest. Returns the files written.
   */
  ensure(wire: WireSchema, topic: string, selecting: boolean): string[] {
    const id = `${selecting ? topic : ''}/${wire.fingerprint}`;
    if (this.#seen.has(id)) return [];
    this.#seen.add(id);
    let text = this.#texts.get(wire);
    if (text === undefined) this.#texts.set(wire, (text = JSON.stringify(wire.schema, null, 2) + '\n'));
    const versioned = schemaFileFor(this.#base, wire.fingerprint);
    const newest = selecting ? schemaFileFor(this.#base, topic) : this.#base;
    const written: string[] = [];
    if (!existsSync(versioned)) {
      writeAtomically(versioned, text);
      written.push(versioned);
    }
    writeAtomically(newest, text);
    written.push(newest);
    return written;
  }
}
