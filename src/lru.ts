// A map that forgets its least recently used entry past a fixed size: caches keyed by what a sender
// chooses (a schema's text, which can vary endlessly in its docs) must not grow with the sender.

export class Lru<K, V> {
  readonly #cap: number;
  readonly #map = new Map<K, V>();

  constructor(cap: number) {
    if (!(cap >= 1)) throw new RangeError(`an LRU cache needs room for at least one entry, got ${cap}`);
    this.#cap = cap;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      // A Map iterates in insertion order: re-inserting makes this the most recent.
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#cap) this.#map.delete(this.#map.keys().next().value as K);
  }
}
