import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet } from "../api/index.ts";
import { hps, ids, request } from "./core.testkit.ts";
import { SetAggregates, type SetsView, scanView } from "./setsview.ts";

/** shape is what the core reads of a view, comparable with toEqual. */
const shape = (v: SetsView, sets = 4) => ({
  summary: v.summary,
  count: v.count,
  highestFirstId: v.highestFirstId,
  present: Array.from({ length: sets }, (_, i) => v.get(i + 1)?.metadata?.name ?? null),
  all: v
    .all()
    .map((s) => s.metadata?.name)
    .sort(),
});

/** rng is a small seeded generator (mulberry32), so a failing sequence can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("SetAggregates", () => {
  const req = request();

  it("sums the sets of a request, and nothing of a request with none", () => {
    const agg = new SetAggregates();
    expect(shape(agg.view(req))).toEqual(shape(scanView(req, [])));
    const sets = [
      hps(1, 4, ids(1, 4, 1), { losses: { "2": 0.5 } }),
      hps(2, 4, ids(5, 6, 2), { failed: { "5": "oom" } }),
    ];
    for (const s of sets) agg.change(undefined, s);
    const v = agg.view(req);
    expect(v.summary.counts).toEqual({ total: 6, evaluated: 1, unevaluated: 4, failed: 1 });
    expect(v.summary.best).toMatchObject({ id: "2", loss: 0.5 });
    expect([v.summary.maxId, v.summary.latest, v.count, v.highestFirstId]).toEqual([
      6,
      { number: 2, added: 2, firstId: 5 },
      2,
      5,
    ]);
    expect(shape(v)).toEqual(shape(scanView(req, sets)));
  });

  it("leaves out sets of another request, another owner or being deleted", () => {
    const agg = new SetAggregates();
    const foreign = {
      ...hps(2, 4, ids(5, 6, 1)),
      metadata: { ...hps(2, 4, []).metadata, ownerReferences: [] },
    };
    const deleting: HyperParameterSet = {
      ...hps(3, 4, ids(9, 9, 1)),
      metadata: { ...hps(3, 4, []).metadata, deletionTimestamp: "2026-12-07T00:00:00Z" },
    };
    const sets = [hps(1, 4, ids(1, 4, 1)), foreign, deleting];
    for (const s of sets) agg.change(undefined, s);
    const other: HPORequest = { ...req, metadata: { ...req.metadata, name: "q" } };
    expect(agg.view(req).count).toBe(1);
    expect(agg.view(req).get(2)).toBeUndefined();
    expect(agg.view(other).count).toBe(0);
    expect(shape(agg.view(req))).toEqual(shape(scanView(req, sets)));
  });

  it("follows any sequence of stores, reports, deletions and re-creations exactly as a fresh scan", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const agg = new SetAggregates();
      const current = new Map<number, HyperParameterSet>();
      const maximize = request({ objective: { direction: "maximize" } });
      let nextId = 1;
      let generation = 1;
      for (let step = 0; step < 120; step++) {
        const r = random();
        let before: HyperParameterSet | undefined;
        let after: HyperParameterSet | undefined;
        if (r < 0.35) {
          // Store the next point (a new generation now and then), in a new set every 4 ids.
          const id = nextId++;
          if (random() < 0.2) generation++;
          const k = Math.ceil(id / 4);
          before = current.get(k);
          const held = (before?.status?.points ?? []).map(
            (p) => [Number(p.id), p.generation ?? 0] as [number, number],
          );
          after = hps(k, 4, [...held, [id, generation]], {
            losses: before?.spec.losses ?? {},
            failed: before?.spec.failed ?? {},
          });
        } else if (r < 0.85 && current.size > 0) {
          // Report a loss or a failure for a point of some set.
          const ks = [...current.keys()];
          const k = ks[Math.floor(random() * ks.length)] as number;
          before = current.get(k) as HyperParameterSet;
          const pts = before.status?.points ?? [];
          const p = pts[Math.floor(random() * pts.length)];
          if (!p || before.spec.losses?.[p.id] !== undefined || before.spec.failed?.[p.id] !== undefined)
            continue;
          const spec =
            random() < 0.8
              ? { ...before.spec, losses: { ...before.spec.losses, [p.id]: Math.round(random() * 20) / 4 } }
              : { ...before.spec, failed: { ...before.spec.failed, [p.id]: "x" } };
          after = { ...before, spec };
        } else if (current.size > 0) {
          // Delete a set by hand.
          const ks = [...current.keys()];
          before = current.get(ks[Math.floor(random() * ks.length)] as number);
        } else continue;
        agg.change(before, after);
        const k = Math.ceil(((after ?? before)?.spec.firstId ?? 1) / 4);
        if (after) current.set(k, after);
        else current.delete(k);
        for (const q of [req, maximize]) {
          if (random() < 0.5) continue; // views are not always asked for: differences pile up
          const sets = [...current.values()];
          expect(shape(agg.view(q), 40), `seed ${seed}, step ${step}`).toEqual(shape(scanView(q, sets), 40));
        }
      }
    }
  });
});
