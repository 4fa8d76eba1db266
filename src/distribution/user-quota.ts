// The bytes (key and value, as the per-topic metrics count them) each user filter has sent per
// night, against its quota (the registration's, else USER_FILTER_QUOTA_MB). A batch's admissions
// are pending until its transaction commits: an aborted batch is built again from what was
// committed, so an alert never counts twice. The single instance writes the usage into its
// checkpoint record, in the same transaction, and reads it back at restart: the quota holds across
// restarts exactly. Group mode keeps it per instance, in memory (docs/architecture.md says so).

/** `<owner>/<name>/<survey>` -> night (YYYYMMDD) -> bytes sent. */
export type QuotaUsage = Record<string, Record<string, number>>;

/** Nights kept per filter in the usage: the night being distributed and a late one before it. */
const NIGHTS_KEPT = 2;

const slot = (filter: string, night: string) => `${filter}\n${night}`;

export class QuotaLedger {
  readonly #committed = new Map<string, number>();
  readonly #pending = new Map<string, number>();
  /** Alerts refused in the batch being built, by filter. */
  readonly #over = new Map<string, number>();

  /**
   * Whether a message of `bytes` for `filter`'s topic still fits its quota of `limit` bytes this
   * night; a message that does not is refused, counted as over quota.
   */
  admit(filter: string, night: string, bytes: number, limit: number): boolean {
    const at = slot(filter, night);
    const sent = this.#pending.get(at) ?? this.#committed.get(at) ?? 0;
    if (sent + bytes > limit) {
      this.#over.set(filter, (this.#over.get(filter) ?? 0) + 1);
      return false;
    }
    this.#pending.set(at, sent + bytes);
    return true;
  }

  /** The batch committed: its admissions count from now on; returns its alerts over quota by filter. */
  commit(): Map<string, number> {
    for (const [at, bytes] of this.#pending) this.#committed.set(at, bytes);
    const over = new Map(this.#over);
    this.#pending.clear();
    this.#over.clear();
    return over;
  }

  /** The batch was given up: it is built again. */
  discard(): void {
    this.#pending.clear();
    this.#over.clear();
  }

  /** Starts over from a saved usage (a checkpoint's). */
  restore(usage: QuotaUsage): void {
    this.discard();
    this.#committed.clear();
    for (const [filter, nights] of Object.entries(usage)) {
      for (const [night, bytes] of Object.entries(nights)) this.#committed.set(slot(filter, night), bytes);
    }
  }

  /** What was committed and what the batch in hand adds: what its checkpoint records. */
  usage(): QuotaUsage {
    const all = new Map([...this.#committed, ...this.#pending]);
    const out: QuotaUsage = {};
    for (const [at, bytes] of all) {
      const [filter, night] = at.split('\n') as [string, string];
      (out[filter] ??= {})[night] = bytes;
    }
    for (const nights of Object.values(out)) {
      for (const night of Object.keys(nights).sort().slice(0, -NIGHTS_KEPT)) delete nights[night];
    }
    return out;
  }
}

/** A usage from a checkpoint's JSON, or what is wrong with it. */
export function parseQuotaUsage(value: unknown): QuotaUsage | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return "'userBytes' is not an object";
  for (const [filter, nights] of Object.entries(value)) {
    if (nights === null || typeof nights !== 'object' || Array.isArray(nights)) return `'userBytes' of ${JSON.stringify(filter)} is not an object`;
    for (const [night, bytes] of Object.entries(nights as Record<string, unknown>)) {
      if (!/^\d{8}$/.test(night) || typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return `'userBytes' of ${JSON.stringify(filter)} has ${JSON.stringify(night)}: ${JSON.stringify(bytes)}, not a night and a byte count`;
    }
  }
  return value as QuotaUsage;
}
