// The science log's uniqueness (docs/architecture.md, The dedup window): an alert written twice to
// the log (a writer that retried, two writers racing) is distributed once. The decision is made
// from the log alone, so that whichever instance owns a partition decides the same: the record at
// offset o of a partition is a duplicate iff a committed record of the same alert id sits at an
// offset in [o - W, o) of that partition. An object's alerts share a partition, so an alert's
// copies do too. An instance that takes a partition over at committed offset c first feeds the
// window the records of [c - W, c), without distributing them. Pure.

export class DedupWindow {
  readonly #size: bigint;
  /** Alert id -> the offset of its latest record in the window. */
  readonly #latest = new Map<bigint, bigint>();
  /** Records in offset order, for expiry: [offset, alert id]. */
  readonly #order: [bigint, bigint][] = [];
  #head = 0;

  /** `size`: W, in offsets (0: nothing is ever a duplicate). */
  constructor(size: number) {
    this.#size = BigInt(size);
  }

  /** The first offset a window ending before `offset` covers: where a new owner starts re-reading. */
  static from(size: number, offset: bigint, logStart: bigint): bigint {
    const first = offset - BigInt(size);
    return first > logStart ? first : logStart;
  }

  /**
   * Feeds the record at `offset` (offsets increase call after call) and says whether it is a
   * duplicate. A duplicate counts as a record of its alert too: a third copy within W of the
   * second is a duplicate even when the first has left the window.
   */
  seen(offset: bigint, alertId: bigint): boolean {
    if (this.#size === 0n) return false;
    this.#expire(offset);
    const last = this.#latest.get(alertId);
    this.#latest.set(alertId, offset);
    this.#order.push([offset, alertId]);
    return last !== undefined && last >= offset - this.#size;
  }

  /** How many records the window holds. */
  get records(): number {
    return this.#order.length - this.#head;
  }

  #expire(offset: bigint): void {
    const first = offset - this.#size;
    while (this.#head < this.#order.length && this.#order[this.#head]![0] < first) {
      const [at, id] = this.#order[this.#head++]!;
      if (this.#latest.get(id) === at) this.#latest.delete(id);
    }
    // Compacted now and then, not per record: the array only grows by what the window holds.
    if (this.#head > 4096 && this.#head * 2 > this.#order.length) {
      this.#order.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
