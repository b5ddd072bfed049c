/**
 * Time as a dependency: the runtime kit (work queue, controller, leader election, logs) reads the
 * time and sets timers only through a Clock, so tests drive time with a FakeClock instead of
 * waiting or mocking modules.
 */

/** Cancel stops a timer set by Clock.after; calling it after the timer fired does nothing. */
export type Cancel = () => void;

/** Clock tells the time (milliseconds since the epoch) and runs a function after a delay. */
export interface Clock {
  now(): number;
  /** after runs fn once, ms milliseconds from now. Real timers never keep the process alive. */
  after(ms: number, fn: () => void): Cancel;
}

/** realClock is the system clock; its timers are unref'd so pending ones never hold the process open. */
export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** FakeClock is a Clock for tests: time stands still until advance() moves it and fires due timers. */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.t = start;
  }

  /** now is the fake time. */
  now(): number {
    return this.t;
  }

  /** after schedules fn at now + ms (timers due at the same time fire in the order they were set). */
  after(ms: number, fn: () => void): Cancel {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return () => this.timers.delete(id);
  }

  /** advance moves time forward by ms, firing each due timer at its own time, in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.timers.delete(next.seq);
      this.t = next.at;
      next.fn();
    }
    this.t = target;
  }

  /** pending is the number of timers not yet fired or cancelled. */
  pending(): number {
    return this.timers.size;
  }

  private nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    }
    return best;
  }
}
