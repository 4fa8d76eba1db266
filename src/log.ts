// Structured log lines (logfmt: time, level, message, key=value pairs) on stderr, one per event.
export type Level = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | bigint | boolean | undefined>;
export type Logger = (level: Level, message: string, fields?: LogFields) => void;

function quote(value: string): string {
  return /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
}

export function formatLine(level: Level, message: string, fields: LogFields = {}): string {
  const parts = [`time=${new Date().toISOString()}`, `level=${level}`, `msg=${JSON.stringify(message)}`];
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) parts.push(`${key}=${quote(String(value))}`);
  return parts.join(' ');
}

export function streamLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  return (level, message, fields) => stream.write(formatLine(level, message, fields) + '\n');
}

export const silentLogger: Logger = () => {};
