/**
 * EventCorrelator decides what becomes of an event before it is sent, after client-go's event
 * correlator: a repeat of an event (same object, type, reason and message) within the interval is
 * not sent again, and the next one sent after the interval says how many repeats it stands for
 * (client-go patches a count instead; not patching keeps the operator's permissions to creating
 * Events); more than maxSimilar distinct
 * messages with the same object, type and reason within the interval are combined into one event;
 * and each object gets at most burst events, refilled one per refillMs (the spam filter). Pure
 * bookkeeping with an injected clock; EventRecorder (events.ts) carries the result out.
 */

/** Correlated is what to do with an event: send it (with this message), or drop it. */
export type Correlated = { action: "create"; message: string } | { action: "drop"; repeat: boolean };

/** CorrelatorOptions tune the correlator (defaults are client-go's). */
export interface CorrelatorOptions {
  now?: () => number;
  /** intervalMs is how long a repeat counts as a repeat, and similar events as similar (10 minutes). */
  intervalMs?: number;
  /** maxSimilar distinct messages per object, type and reason before they are combined (10). */
  maxSimilar?: number;
  /** burst is how many events one object may get at once (25). */
  burst?: number;
  /** refillMs is the time that gives an object one more event (5 minutes). */
  refillMs?: number;
  /** maxKeys bounds the memory: the oldest entries are forgotten first (4096). */
  maxKeys?: number;
}

interface Seen {
  /** repeats counts the copies dropped since the last one sent. */
  repeats: number;
  /** at is when the last copy was sent. */
  at: number;
}

interface Similar {
  messages: Set<string>;
  since: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** EventCorrelator deduplicates, aggregates and rate-limits events. */
export class EventCorrelator {
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly maxSimilar: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly maxKeys: number;
  private readonly seen = new Map<string, Seen>();
  private readonly similar = new Map<string, Similar>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(opts: CorrelatorOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? 600_000;
    this.maxSimilar = opts.maxSimilar ?? 10;
    this.burst = opts.burst ?? 25;
    this.refillMs = opts.refillMs ?? 300_000;
    this.maxKeys = opts.maxKeys ?? 4096;
  }

  /** correlate says what to do with an event about object (a stable key such as its uid). */
  correlate(object: string, type: string, reason: string, message: string): Correlated {
    const now = this.now();
    const group = `${object}\u0000${type}\u0000${reason}`;
    let text = message;
    const sim = this.similarOf(group, now);
    if (!sim.messages.has(message) && sim.messages.size >= this.maxSimilar) {
      text = `(combined from similar events): ${message}`;
    } else sim.messages.add(message);
    const key = `${group}\u0000${text === message ? message : "(combined)"}`;
    const prior = this.seen.get(key);
    if (prior && now - prior.at < this.intervalMs) {
      prior.repeats++;
      return { action: "drop", repeat: true };
    }
    if (!this.take(object, now)) return { action: "drop", repeat: false };
    const repeats = prior?.repeats ?? 0;
    remember(this.seen, key, { repeats: 0, at: now }, this.maxKeys);
    const more =
      repeats > 0 ? ` (seen ${repeats} more time${repeats === 1 ? "" : "s"} before, not sent again)` : "";
    return { action: "create", message: `${text}${more}` };
  }

  private similarOf(group: string, now: number): Similar {
    const s = this.similar.get(group);
    if (s && now - s.since < this.intervalMs) return s;
    const fresh = { messages: new Set<string>(), since: now };
    remember(this.similar, group, fresh, this.maxKeys);
    return fresh;
  }

  /** take spends one token of object's bucket, refilled at one per refillMs up to burst. */
  private take(object: string, now: number): boolean {
    const b = this.buckets.get(object) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) / this.refillMs);
    b.at = now;
    remember(this.buckets, object, b, this.maxKeys);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** remember sets key in a map kept to max entries, forgetting the least recently set. */
function remember<V>(m: Map<string, V>, key: string, v: V, max: number): void {
  m.delete(key);
  m.set(key, v);
  if (m.size > max) {
    const oldest = m.keys().next().value;
    if (oldest !== undefined) m.delete(oldest);
  }
}
