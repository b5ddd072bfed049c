import { describe, expect, it } from "vitest";
import { FakeClock, realClock } from "./clock.ts";

describe("FakeClock", () => {
  it("fires due timers in time order, each at its own time, and skips cancelled ones", () => {
    const c = new FakeClock(100);
    const fired: string[] = [];
    c.after(30, () => fired.push(`b@${c.now()}`));
    c.after(10, () => {
      fired.push(`a@${c.now()}`);
      c.after(5, () => fired.push(`a2@${c.now()}`));
    });
    const cancel = c.after(20, () => fired.push("cancelled"));
    c.after(30, () => fired.push(`c@${c.now()}`));
    cancel();
    c.advance(29);
    expect(fired).toEqual(["a@110", "a2@115"]);
    expect(c.now()).toBe(129);
    c.advance(1);
    expect(fired).toEqual(["a@110", "a2@115", "b@130", "c@130"]);
    expect(c.pending()).toBe(0);
  });
});

describe("realClock", () => {
  it("runs a timer and cancels another", async () => {
    let ran = false;
    let cancelled = false;
    realClock.after(1, () => {
      ran = true;
    })();
    await new Promise<void>((resolve) => realClock.after(5, resolve));
    realClock.after(0, () => {
      cancelled = true;
    })();
    await new Promise((r) => setTimeout(r, 5));
    expect([ran, cancelled]).toEqual([false, false]);
    expect(Math.abs(realClock.now() - Date.now())).toBeLessThan(50);
  });
});
