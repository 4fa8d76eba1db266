// Errors a user can act on. The entry points print their message (one line, no stack) and exit
// with their code; anything else is a bug and keeps its stack. Every error class of a room extends
// FinkError and carries a stable `code` (FINK_*), so that a caller can tell them apart without
// importing the room that throws them, and a script can match them without parsing the message.

export interface FinkErrorOptions {
  /** The process's exit code when the error reaches an entry point (default 1). */
  exitCode?: number;
  /** A stable identifier of the kind of error (default 'FINK_ERROR'). */
  code?: string;
}

export class FinkError extends Error {
  readonly exitCode: number;
  readonly code: string;
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
