// The wait between attempts at something that fails for a while (Kafka away, a registry down): it
// starts short, so that a blip costs little, and doubles up to a ceiling, so that a long outage
// is asked about every few seconds rather than hammered or forgotten.

export class Backoff {
  readonly #first: number;
  readonly #max: number;
  #next: number;

  constructor(firstMs: number, maxMs: number) {
    this.#first = firstMs;
    this.#max = maxMs;
    this.#next = firstMs;
  }

  /** How long to wait after this failure; the next one waits twice as long, up to the ceiling. */
  next(): number {
    const wait = this.#next;
    this.#next = Math.min(this.#next * 2, this.#max);
    return wait;
  }

  /** A success: the next failure waits the first delay again. */
  reset(): void {
    this.#next = this.#first;
  }
}

/** The services' policy towards Kafka and the console's towards its topics: 0.5 s, doubling to 15 s. */
export function kafkaBackoff(): Backoff {
  return new Backoff(500, 15_000);
}
