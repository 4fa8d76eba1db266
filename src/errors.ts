// Errors a user can act on. The entry points print their message (one line, no stack) and exit
// with their code; anything else is a bug and keeps its stack.

export class FinkError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'FinkError';
    this.exitCode = exitCode;
  }
}

/** A wrong flag, a bad value, an unknown configuration key: exit 2 (docs/architecture.md, Commands and exit codes). */
export class UsageError extends FinkError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
