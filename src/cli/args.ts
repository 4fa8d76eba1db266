// Command-line parsing shared by the entry points: node:util parseArgs in strict mode, with its
// errors turned into one-line usage errors (exit 2), and the exit-code policy of docs/architecture.md, Commands and exit codes.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FinkError, UsageError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    if (err instanceof TypeError && typeof (err as { code?: unknown }).code === 'string') {
      throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/s, ''));
    }
    throw err;
  }
}

const COMMON = { conf: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/**
 * The flags of a `fink` command, with --conf and --help added; undefined when --help was given
 * (the usage text is then printed and the command has nothing more to do).
 */
export function commandArgs<O extends Options>(argv: string[], usage: string, options: O, allowPositionals = false) {
  const parsed = parseFlags(argv, { ...COMMON, ...options } as typeof COMMON & O, allowPositionals);
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(usage);
    return undefined;
  }
  return parsed;
}

/** A flag value that must be a whole number within bounds. */
export function intFlag(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} expects a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got '${value}'`);
  }
  return Number(value);
}

/**
 * Runs a command body and maps its outcome to an exit code: usage errors print one line and
 * return 2 (with a pointer to --help), user-fixable errors one line and their own code, bugs a stack.
 */
export async function runCommand(name: string, body: () => Promise<number | void>): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\n(see '${name} --help')\n`);
      return err.exitCode;
    }
    if (err instanceof FinkError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
