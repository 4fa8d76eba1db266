// Errors a user can act on. The entry points print their message (one line, no stack) and exit
// with their code; anything else is a bug and keeps its stack. Every error class of a room extends
// FinkError and carries a stable `code` from FINK_CODES, so that a caller can tell them apart
// without importing the room that throws them, and a script can match them without parsing the
// message. The list is closed: a new kind of error adds its code here, and no code is renamed
// (scripts match them).

export const FINK_CODES = [
  /** Any other error a user can act on (the default). */
  'FINK_ERROR',
  /** A wrong flag, a bad value, an unknown configuration key. */
  'FINK_USAGE',
  /** An Avro datum that breaks its schema or the limits of src/avro/bounded.ts. */
  'FINK_DATUM',
  /** An Avro container file that cannot be read. */
  'FINK_CONTAINER',
  /** A message that is not in the Confluent wire format. */
  'FINK_WIRE_FORMAT',
  /** A schema registry that refuses or does not answer. */
  'FINK_SCHEMA_REGISTRY',
  /** An alert whose fields are not those of its survey. */
  'FINK_ALERT',
  /** A file that is not a readable alert file. */
  'FINK_BAD_FILE',
  /** Added values that do not fit their alert. */
  'FINK_ADD_VALUES',
  /** A night's store replaced while it was being read. */
  'FINK_STORE_REPLACED',
  'FINK_BAD_LOG_RECORD',
  'FINK_GROUP_FENCED',
  'FINK_LEADER_MOVED',
  /** A schema that a stored alert names and the science database does not hold. */
  'FINK_SCHEMA_MISSING',
  /** Kafka, or the running of a cluster, failed. */
  'FINK_KAFKA',
  /** Kafka does not answer at all. */
  'FINK_KAFKA_UNREACHABLE',
  /** A newer producer with the same transactional id fenced this one. */
  'FINK_FENCED',
  /** A topic that does not exist. */
  'FINK_TOPIC_MISSING',
  /** A schema id that the upstream registry does not know. */
  'FINK_UNKNOWN_SCHEMA',
  /** A message that does not decode with its schema file. */
  'FINK_DECODE',
  /** A Parquet file that cannot be written or read. */
  'FINK_PARQUET',
  /** A FITS cutout that cannot be read. */
  'FINK_FITS',
  /** A user filter's condition that does not parse, names an unknown field, or mixes types. */
  'FINK_CONDITION',
] as const;

export type FinkCode = (typeof FINK_CODES)[number];

export interface FinkErrorOptions {
  /** The process's exit code when the error reaches an entry point (default 1). */
  exitCode?: number;
  /** A stable identifier of the kind of error (default 'FINK_ERROR'). */
  code?: FinkCode;
}

export class FinkError extends Error {
  readonly exitCode: number;
  readonly code: FinkCode;
  /** `options` as a number is the exit code alone. */
  constructor(message: string, options: number | FinkErrorOptions = {}) {
    super(message);
    const { exitCode = 1, code = 'FINK_ERROR' } = typeof options === 'number' ? { exitCode: options } : options;
    this.name = 'FinkError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

/** A wrong flag, a bad value, an unknown configuration key: exit 2 (docs/architecture.md, Commands and exit codes). */
export class UsageError extends FinkError {
  constructor(message: string) {
    super(message, { exitCode: 2, code: 'FINK_USAGE' });
    this.name = 'UsageError';
  }
}
