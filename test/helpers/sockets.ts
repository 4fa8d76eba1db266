// The listening TCP sockets of this machine, read from /proc/net/tcp{,6} (what `ss -ltn` shows),
// so that a test can see where a server binds without connecting anywhere.
import { readFileSync } from 'node:fs';

export interface Listening {
  host: string;
  port: number;
}

const LISTEN = '0A';

/** One 32-bit word of /proc/net/tcp*, in host (little-endian) order, as four bytes. */
const word = (hex: string): number[] => [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));

function address(hex: string): string {
  if (hex.length === 8) return word(hex).join('.');
  const bytes = [0, 8, 16, 24].flatMap((i) => word(hex.slice(i, i + 8)));
  // IPv4-mapped (::ffff:a.b.c.d), as Java's dual-stack sockets bind an IPv4 address.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  if (bytes.every((b) => b === 0)) return '::';
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function listeningSockets(): Listening[] {
  const found: Listening[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== LISTEN) continue;
      const [host, port] = (fields[1] as string).split(':');
      found.push({ host: address(host as string), port: parseInt(port as string, 16) });
    }
  }
  return found;
}
