// The test ports: one range below this machine's ephemeral range (32768-60999 on Linux by default;
// a port the OS gives outgoing connections can be taken between a test choosing it and a broker
// binding it, which under another run's load happened), shared out by `npm test` to its lanes as
// FINK_TEST_PORTS (`low-high`, inclusive), so that two lanes never choose the same port. Imports
// nothing: scripts/test.ts writes the variable, test/helpers/kafka.ts reads it.

export interface PortRange {
  low: number;
  high: number;
}

/** Every test port, when no lane says otherwise. */
export const TEST_PORTS: PortRange = { low: 12_000, high: 31_999 };

/** Slice `i` of `n` disjoint slices of TEST_PORTS, as FINK_TEST_PORTS writes it. */
export function portSlice(i: number, n: number): string {
  const width = Math.floor((TEST_PORTS.high - TEST_PORTS.low + 1) / n);
  return `${TEST_PORTS.low + i * width}-${TEST_PORTS.low + (i + 1) * width - 1}`;
}

/** The ports this process may hand out: FINK_TEST_PORTS, else all of TEST_PORTS. */
export function portRange(text = process.env.FINK_TEST_PORTS): PortRange {
  if (text === undefined) return TEST_PORTS;
  const m = /^(\d+)-(\d+)$/.exec(text);
  const [low, high] = m === null ? [NaN, NaN] : [Number(m[1]), Number(m[2])];
  if (!(low >= 1024 && high <= 65535 && high - low >= 100)) throw new Error(`FINK_TEST_PORTS must be LOW-HIGH, at least 100 ports from 1024 to 65535, not ${text}`);
  return { low, high };
}
