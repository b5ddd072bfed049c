import { describe, expect, it } from "vitest";
import { type CorrelatorOptions, EventCorrelator } from "./correlator.ts";

/** clocked is a correlator on a fake clock that the test moves by hand. */
function clocked(opts: CorrelatorOptions = {}) {
  let t = 1_000_000;
  const c = new EventCorrelator({ now: () => t, ...opts });
  return {
    c,
    advance: (ms: number) => {
      t += ms;
    },
    say: (message: string, object = "uid-1", reason = "GenerationFailed") =>
      c.correlate(object, "Warning", reason, message),
  };
}

const MIN = 60_000;

describe("EventCorrelator: repeats", () => {
  it("updates the first event's count for a repeat within the interval", () => {
    const { say, advance } = clocked();
    const first = say("boom");
    expect(first).toMatchObject({ action: "create", message: "boom" });
    advance(MIN);
    const second = say("boom");
    expect(second).toEqual({ action: "update", key: first.action === "create" ? first.key : "", count: 2 });
    advance(MIN);
    expect(say("boom")).toMatchObject({ action: "update", count: 3 });
  });

  it.each([
    ["another object", "boom", "uid-2", "GenerationFailed"],
    ["another reason", "boom", "uid-1", "SetDeleted"],
    ["another message", "bang", "uid-1", "GenerationFailed"],
  ])("creates a new event for %s", (_what, message, object, reason) => {
    const { say } = clocked();
    say("boom");
    expect(say(message, object, reason).action).toBe("create");
  });

  it("creates the event again once the interval has passed since the last repeat", () => {
    const { say, advance } = clocked({ intervalMs: 10 * MIN });
    say("boom");
    advance(9 * MIN);
    expect(say("boom").action).toBe("update");
    advance(9 * MIN); // 18 minutes after the first, 9 after the last: still a repeat
    expect(say("boom").action).toBe("update");
    advance(10 * MIN);
    expect(say("boom")).toMatchObject({ action: "create", message: "boom" });
  });

  it("creates again after forgetKey (the Event is gone)", () => {
    const { c, say } = clocked();
    const first = say("boom");
    if (first.action !== "create") throw new Error("expected a create");
    c.forgetKey(first.key);
    expect(say("boom").action).toBe("create");
  });
});

describe("EventCorrelator: similar events", () => {
  it("combines the 11th distinct message of one object and reason, and counts the ones after it", () => {
    const { say } = clocked();
    for (let i = 1; i <= 10; i++)
      expect(say(`point ${i} lost`)).toMatchObject({ action: "create", message: `point ${i} lost` });
    expect(say("point 11 lost")).toMatchObject({
      action: "create",
      message: "(combined from similar events): point 11 lost",
    });
    expect(say("point 12 lost")).toMatchObject({ action: "update", count: 2 });
    // one of the first ten, repeated, still counts on its own event
    expect(say("point 3 lost")).toMatchObject({ action: "update", count: 2 });
    // another reason is not similar
    expect(say("point 13 lost", "uid-1", "Other")).toMatchObject({
      action: "create",
      message: "point 13 lost",
    });
  });

  it("starts counting similar messages afresh after the interval", () => {
    const { say, advance } = clocked({ intervalMs: 10 * MIN, refillMs: 1 });
    for (let i = 1; i <= 10; i++) say(`m${i}`);
    advance(10 * MIN);
    expect(say("m11")).toMatchObject({ action: "create", message: "m11" });
  });
});

describe("EventCorrelator: rate limit", () => {
  it("lets a burst of 25 events through, then drops them until the bucket refills", () => {
    const { say, advance } = clocked({ maxSimilar: 1000 });
    const actions = Array.from({ length: 30 }, (_, i) => say(`m${i}`).action);
    expect(actions.filter((a) => a === "create")).toHaveLength(25);
    expect(actions.slice(25)).toEqual(["drop", "drop", "drop", "drop", "drop"]);
    // repeats are limited as well
    expect(say("m0").action).toBe("drop");
    // another object has its own bucket
    expect(say("m0", "uid-2").action).toBe("create");
    advance(5 * MIN - 1);
    expect(say("late").action).toBe("drop");
    advance(1);
    expect(say("late").action).toBe("create");
    expect(say("later").action).toBe("drop");
    advance(10 * MIN);
    expect([say("a").action, say("b").action, say("c").action]).toEqual(["create", "create", "drop"]);
  });
});

describe("EventCorrelator: memory", () => {
  it("keeps at most maxKeys entries, forgetting the oldest first", () => {
    const { c, say } = clocked({ maxKeys: 3 });
    for (let i = 0; i < 100; i++) say(`m${i}`, `uid-${i}`);
    const sizes = c as unknown as {
      seen: Map<string, unknown>;
      similar: Map<string, unknown>;
      buckets: Map<string, unknown>;
    };
    expect([sizes.seen.size, sizes.similar.size, sizes.buckets.size]).toEqual([3, 3, 3]);
    // the newest are remembered (a repeat), the oldest forgotten (a new event)
    expect(say("m99", "uid-99").action).toBe("update");
    expect(say("m0", "uid-0").action).toBe("create");
  });
});
