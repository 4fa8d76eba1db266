// The bytes (key and value, as the per-topic metrics count them) and alerts each user filter has
// sent per night, the bytes against its quota (the registration's, else USER_FILTER_QUOTA_MB). A
// batch's admissions are pending until its transaction commits: an aborted batch is built again
// from what was committed, so an alert never counts twice. Each instance writes its usage, in the
// batch's transaction, to the usage topic (user-usage.ts; the single instance into its checkpoint
// record too) and reads it back at restart: what it counts is exact across restarts. In group mode
// the quota also counts what the other instances had committed when last read (`others`).

/** `<owner>/<name>/<survey>` -> night (YYYYMMDD) -> bytes sent. */
export type QuotaUsage = Record<string, Record<string, number>>;

/** Nights kept per filter in the usage: the night being distributed and a late one before it. */
const NIGHTS_KEPT = 2;

const slot = (filter: string, night: string) => `${filter}\n${night}`;

export class QuotaLedger {
  readonly #committed = new Map<string, number>();
  readonly #pending = new Map<string, number>();
  /** Alerts sent, as the bytes: committed, and what the batch in hand adds. */
  readonly #committedAlerts = new Map<string, number>();
  readonly #pendingAlerts = new Map<string, number>();
  /** Bytes the other instances of a group had sent, as last read; empty for a single instance. */
  #others = new Map<string, number>();
  /** Alerts refused in the batch being built, by filter. */
  readonly #over = new Map<string, number>();
  /**
   * The committed bytes and alerts as usage() and alerts() give them, kept up to date at each commit
   * rather than rebuilt from the slots for every batch's checkpoint and usage record (with a hundred
   * filters that rebuild was most of what the bookkeeping allocated). A filter's nights are replaced,
   * never changed in place: what was handed out stays as it was.
   */
  #committedView: QuotaUsage = {};
  #committedAlertsView: QuotaUsage = {};
  /**
   * What usage() and alerts() made of the batch in hand, until it changes: the batch's checkpoint
   * asks for them, and at its commit they become the committed views as they are (with a hundred
   * filters, making each twice a batch was most of the bookkeeping's time, BENCHMARKS.md).
   */
  #pendingView: QuotaUsage | undefined;
  #pendingAlertsView: QuotaUsage | undefined;

  /**
   * Whether a message of `bytes` for `filter`'s topic still fits its quota of `limit` bytes this
   * night; a message that does not is refused, counted as over quota.
   */
  admit(filter: string, night: string, bytes: number, limit: number): boolean {
    const at = slot(filter, night);
    const sent = this.#pending.get(at) ?? this.#committed.get(at) ?? 0;
    if (sent + (this.#others.get(at) ?? 0) + bytes > limit) {
      this.#over.set(filter, (this.#over.get(filter) ?? 0) + 1);
      return false;
    }
    this.#pending.set(at, sent + bytes);
    this.#pendingAlerts.set(at, (this.#pendingAlerts.get(at) ?? this.#committedAlerts.get(at) ?? 0) + 1);
    this.#pendingView = this.#pendingAlertsView = undefined;
    return true;
  }

  /** Whether the batch in hand sent anything to a user topic. */
  get pending(): boolean {
    return this.#pending.size > 0;
  }

  /** What the other instances of the group had committed when their usage was last read: counted against the quotas. */
  setOthers(bytes: QuotaUsage): void {
    this.#others = new Map(entries(bytes));
  }

  /** The batch committed: its admissions count from now on; returns its alerts over quota by filter. */
  commit(): Map<string, number> {
    for (const [at, bytes] of this.#pending) this.#committed.set(at, bytes);
    for (const [at, alerts] of this.#pendingAlerts) this.#committedAlerts.set(at, alerts);
    this.#committedView = this.usage();
    this.#committedAlertsView = this.alerts();
    const over = new Map(this.#over);
    this.discard();
    return over;
  }

  /** The batch was given up: it is built again. */
  discard(): void {
    this.#pending.clear();
    this.#pendingAlerts.clear();
    this.#over.clear();
    this.#pendingView = this.#pendingAlertsView = undefined;
  }

  /** Starts over from a saved usage (a checkpoint's or the usage topic's): its bytes and, when saved, its alerts. */
  restore(usage: QuotaUsage, alerts: QuotaUsage = {}): void {
    this.discard();
    this.#committed.clear();
    this.#committedAlerts.clear();
    for (const [at, bytes] of entries(usage)) this.#committed.set(at, bytes);
    for (const [at, n] of entries(alerts)) this.#committedAlerts.set(at, n);
    this.#committedView = withSlots({}, this.#committed);
    this.#committedAlertsView = withSlots({}, this.#committedAlerts);
  }

  /** The bytes committed and what the batch in hand adds: what its checkpoint records. */
  usage(): QuotaUsage {
    return (this.#pendingView ??= this.#pending.size === 0 ? this.#committedView : withSlots(this.#committedView, this.#pending));
  }

  /** The alerts committed and what the batch in hand adds, as usage() the bytes. */
  alerts(): QuotaUsage {
    return (this.#pendingAlertsView ??= this.#pendingAlerts.size === 0 ? this.#committedAlertsView : withSlots(this.#committedAlertsView, this.#pendingAlerts));
  }
}

function entries(usage: QuotaUsage): [string, number][] {
  return Object.entries(usage).flatMap(([filter, nights]) => Object.entries(nights).map(([night, n]): [string, number] => [slot(filter, night), n]));
}

/**
 * `base` with the slots' counts set, each changed filter keeping its last NIGHTS_KEPT nights: a new
 * object, sharing with `base` the nights of the filters the slots leave alone.
 */
function withSlots(base: QuotaUsage, slots: ReadonlyMap<string, number>): QuotaUsage {
  const out: QuotaUsage = { ...base };
  const changed = new Set<string>();
  for (const [at, n] of slots) {
    const cut = at.indexOf('\n');
    const filter = at.slice(0, cut);
    if (!changed.has(filter)) {
      changed.add(filter);
      out[filter] = { ...out[filter] };
    }
    out[filter]![at.slice(cut + 1)] = n;
  }
  for (const filter of changed) {
    const nights = out[filter]!;
    for (const night of Object.keys(nights).sort().slice(0, -NIGHTS_KEPT)) delete nights[night];
  }
  return out;
}

/** A usage from a checkpoint's JSON (its field `field`), or what is wrong with it. */
export function parseQuotaUsage(value: unknown, field = 'userBytes'): QuotaUsage | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `'${field}' is not an object`;
  const what = field === 'userBytes' ? 'a byte count' : 'a count';
  for (const [filter, nights] of Object.entries(value)) {
    if (nights === null || typeof nights !== 'object' || Array.isArray(nights)) return `'${field}' of ${JSON.stringify(filter)} is not an object`;
    for (const [night, bytes] of Object.entries(nights as Record<string, unknown>)) {
      if (!/^\d{8}$/.test(night) || typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return `'${field}' of ${JSON.stringify(filter)} has ${JSON.stringify(night)}: ${JSON.stringify(bytes)}, not a night and ${what}`;
    }
  }
  return value as QuotaUsage;
}
