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
  it("drops a repeat within the interval", () => {
    const { say, advance } = clocked();
    expect(say("boom")).toEqual({ action: "create", message: "boom" });
    advance(MIN);
    expect(say("boom")).toEqual({ action: "drop", repeat: true });
    advance(MIN);
    expect(say("boom")).toEqual({ action: "drop", repeat: true });
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

  it("sends it again once the interval has passed since it was sent, saying how many repeats it stands for", () => {
    const { say, advance } = clocked({ intervalMs: 10 * MIN });
    say("boom");
    advance(4 * MIN);
    expect(say("boom").action).toBe("drop");
    advance(4 * MIN);
    expect(say("boom").action).toBe("drop");
    advance(2 * MIN); // 10 minutes after it was sent
    expect(say("boom")).toEqual({
      action: "create",
      message: "boom (seen 2 more times before, not sent again)",
    });
    advance(10 * MIN);
    expect(say("boom")).toEqual({ action: "create", message: "boom" });
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
    // the combined event stands for the ones after it, and a repeat of one of the first ten is a repeat
    expect(say("point 12 lost")).toEqual({ action: "drop", repeat: true });
    expect(say("point 3 lost")).toEqual({ action: "drop", repeat: true });
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
    // a repeat is dropped as a repeat, not counted against the bucket
    expect(say("m0")).toEqual({ action: "drop", repeat: true });
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
    expect(say("m99", "uid-99")).toEqual({ action: "drop", repeat: true });
    expect(say("m0", "uid-0").action).toBe("create");
  });
});
