import { describe, expect, it } from "vitest";
import type { HyperParameterSet } from "../api/index.ts";
import { hps, ids, kinds, observe, reasons, request, settings, settled, statusOf } from "./core.testkit.ts";
import { decide, type Finished } from "./core.ts";

describe("decide: invalid specs", () => {
  it.each([
    [
      "a search space that does not compile",
      request({ searchSpace: { x: { type: "float", low: 2, high: 1 } } }),
      /invalid spec: spec.searchSpace: .*x/,
    ],
    [
      "initial points outside the space",
      request({ initialPoints: [{ params: { x: 1000 } }] }),
      /invalid spec: spec.initialPoints\[0\]/,
    ],
    [
      "a point too big for any set (no set could hold one)",
      request({
        searchSpace: Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [
            `p${i}`,
            { type: "categorical" as const, choices: ["c".repeat(20_000)] },
          ]),
        ),
      }),
      /invalid spec: one point of this search space can take \d+ bytes, more than a HyperParameterSet can hold \(at most \d+ bytes of parameters\): use fewer parameters, shorter parameter names or shorter categorical choices/,
    ],
  ])("%s: Failed, a Warning, nothing created", (_what, req, message) => {
    const d = decide(observe(req, []), settings);
    expect(kinds(d)).toEqual(["applyStatus"]);
    expect(statusOf(d)?.message).toMatch(message);
    expect(statusOf(d)?.conditions?.find((c) => c.type === "SpecValid")).toMatchObject({
      status: "False",
      reason: "InvalidSpec",
    });
    expect(reasons(d)).toEqual(["Warning/InvalidSpec"]);
    expect(d.phase).toBe("Failed");
    // Told once: the same status again is left alone.
    const again = decide(observe(settled(req, d), []), settings);
    expect([again.actions, again.events]).toEqual([[], []]);
  });
});

describe("decide: the admin's policy", () => {
  const refusing = { ...settings, admit: () => "the generator pod policy refuses this request: privileged" };
  it("a refused request: Failed with reason PolicyRefused and its message, a Warning, nothing created", () => {
    const req = request();
    const d = decide(observe(req, []), refusing);
    expect(kinds(d)).toEqual(["applyStatus"]);
    expect(statusOf(d)?.message).toBe("the generator pod policy refuses this request: privileged");
    expect(statusOf(d)?.conditions?.find((c) => c.type === "SpecValid")).toMatchObject({
      status: "False",
      reason: "PolicyRefused",
    });
    expect(reasons(d)).toEqual(["Warning/PolicyRefused"]);
    expect(d.phase).toBe("Failed");
    const again = decide(observe(settled(req, d), []), refusing);
    expect([again.actions, again.events]).toEqual([[], []]);
  });
  it("a request the policy admits runs as before, and a refused one once the admin allows it", () => {
    const d = decide(observe(request(), []), { ...settings, admit: () => undefined });
    expect(d.phase).not.toBe("Failed");
    const refused = settled(request(), decide(observe(request(), []), refusing));
    const allowed = decide(observe(refused, []), settings);
    expect(kinds(allowed)[0]).toMatch(/^generate #1/);
    expect(statusOf(allowed)?.conditions?.find((c) => c.type === "SpecValid")?.status).toBe("True");
  });
});

describe("decide: status writes", () => {
  const initial = [{ params: { x: 1 } }, { params: { x: 2 } }];
  const req0 = request({ initialPoints: initial, minUnevaluatedPoints: 0 }, { pointsPerSet: 4 });
  /** steady is the request with the status the core writes for these sets (nothing more to write). */
  const steady = (sets: HyperParameterSet[]) => {
    const d = decide(observe(req0, sets), settings);
    const req = settled(req0, d);
    expect(statusOf(decide(observe(req, sets), settings))).toBeUndefined();
    return req;
  };
  const before = [hps(1, 4, ids(1, 2, 0), { losses: {} })];

  it.each([
    ["a loss moved only the counts, just after a write: held back", 200, false, 800],
    ["a loss moved only the counts, the interval has passed", 1_000, true, undefined],
    ["a loss moved only the counts, never written before", undefined, true, undefined],
  ])("%s", (_what, since, written, requeueAfterMs) => {
    // minUnevaluatedPoints 0 with one point out: no generation starts; only the counts move.
    const req = steady(before);
    const after = [hps(1, 4, ids(1, 2, 0), { losses: { "1": 0.5 } })];
    const d = decide(observe(req, after, since === undefined ? {} : { sinceStatusWriteMs: since }), settings);
    expect(d.actions.some((a) => a.kind === "applyStatus")).toBe(written);
    expect(d.requeueAfterMs).toBe(requeueAfterMs);
    if (written) expect(statusOf(d)?.points).toMatchObject({ evaluated: 1, unevaluated: 1 });
  });

  it("writes a significant change at once, even just after a write", () => {
    const req = steady(before);
    const outcome = { number: 1, attempt: 1, firstId: 3, result: { kind: "exhausted" } as Finished };
    const all = [hps(1, 4, ids(1, 2, 0), { losses: { "1": 0.5, "2": 0.7 } })];
    const d = decide(observe(req, all, { sinceStatusWriteMs: 10, outcome }), settings);
    expect(statusOf(d)).toMatchObject({ phase: "Finished", exhausted: true });
    expect(d.requeueAfterMs).toBeUndefined();
  });

  it("writes nothing when nothing changed", () => {
    const req = steady(before);
    const d = decide(observe(req, before, { sinceStatusWriteMs: 10 }), settings);
    expect([d.actions, d.events, d.requeueAfterMs]).toEqual([[], [], undefined]);
  });
});

describe("decide: phase events", () => {
  const initial = [{ params: { x: 1 } }, { params: { x: 2 } }];
  it.each([
    ["Finished (cap reached, all evaluated)", { maxPoints: 2 }, { "1": 1, "2": 2 }, {}, "Normal/Finished"],
    [
      "SubFinished (cap reached, one failed)",
      { maxPoints: 2 },
      { "1": 1 },
      { "2": "OOMKilled" },
      "Normal/SubFinished",
    ],
    ["Suspended", { suspend: true }, { "1": 1 }, {}, "Normal/Suspended"],
    ["Waiting: no event", { maxPoints: 3, minUnevaluatedPoints: 0 }, { "1": 1 }, {}, undefined],
  ])("%s", (_what, spec, losses, failed, event) => {
    const req = request(
      { initialPoints: initial, ...spec },
      { pointsPerSet: 4, phase: "Waiting", lastGeneration: { number: 0, state: "Succeeded" } },
    );
    const d = decide(observe(req, [hps(1, 4, ids(1, 2, 0), { losses, failed })]), settings);
    const phaseEvents = reasons(d).filter((r) => !r.includes("Generation"));
    expect(phaseEvents).toEqual(event ? [event] : []);
    if (event) {
      // told once: the status it wrote carries the phase
      const again = decide(observe(settled(req, d), [hps(1, 4, ids(1, 2, 0), { losses, failed })]), settings);
      expect(again.events).toEqual([]);
    }
  });
});
