import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet, Point } from "../api/index.ts";
import {
  changedPoints,
  csvLines,
  encodePoints,
  eventRows,
  generationsOf,
  jsonPoint,
  paramsOf,
  parseStateFilter,
  pointRowOf,
  rowOf,
} from "./model.ts";
import { formatEvent } from "./sse.ts";
import { readFrames } from "./web/frames.ts";
import { PointStore } from "./web/store.ts";

/** seeded is a small deterministic random number generator (Park-Miller). */
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 16807) % 2147483647;
    return x / 2147483647;
  };
}

function shuffle<T>(a: T[], rnd: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** arrayBuffer is a Buffer's bytes in an ArrayBuffer of their own (as fetch gives them). */
function arrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
}

/** snapshot is what a store holds, by point, with values as the request has them. */
function snapshot(s: PointStore) {
  return {
    rows: Array.from({ length: s.size }, (_, i) => [
      s.ids[i],
      s.generation[i],
      s.state[i],
      s.loss[i],
      s.params.map((_, j) => String(s.value(j, i))).join("|"),
    ]),
    reasons: s.reasons,
  };
}

const req = (over: Partial<HPORequest["status"]> = {}, method = "tpe"): HPORequest => ({
  apiVersion: "hpo.dev/v1alpha1",
  kind: "HPORequest",
  metadata: { name: "mnist", namespace: "team", uid: "u1", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: {
    method: method as HPORequest["spec"]["method"],
    maxPoints: 10,
    searchSpace: {
      lr: { type: "float", low: 1e-4, high: 0.1, log: true },
      opt: { type: "categorical", choices: ["adam", "sgd"] },
    },
  },
  status: { phase: "Waiting", points: { total: 3, evaluated: 1, unevaluated: 1, failed: 1 }, ...over },
});

const pts: Point[] = [
  { id: "1", generation: 0, state: "Evaluated", loss: 0.5, params: { lr: 0.01, opt: "sgd" }, set: "mnist-1" },
  {
    id: "2",
    generation: 1,
    state: "Failed",
    reason: 'OOM, "killed"',
    params: { lr: 0.001, opt: "adam" },
    set: "mnist-1",
  },
  { id: "3", generation: 1, state: "New", params: { lr: 0.02, opt: "rmsprop" }, set: "mnist-1" },
];

describe("the wire format", () => {
  it("rowOf summarises a request for the list", () => {
    expect(rowOf(req({ best: { id: "1", loss: 0.5 } }))).toMatchObject({
      namespace: "team",
      name: "mnist",
      method: "tpe",
      phase: "Waiting",
      evaluated: 1,
      failed: 1,
      maxPoints: 10,
      bestLoss: 0.5,
      created: "2026-01-01T00:00:00Z",
    });
    expect(rowOf({ ...req(), status: undefined }).message).toMatch(/waiting for the operator/);
  });

  it("binary points decode in the browser's store as they were, categories included", () => {
    const params = paramsOf(req(), pts);
    const buf = encodePoints(pts, params);
    const store = PointStore.decode(
      params,
      buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer,
    );
    expect(store.size).toBe(3);
    expect([...store.ids]).toEqual([1, 2, 3]);
    expect([...store.state]).toEqual([1, 2, 0]);
    expect(store.loss[0]).toBe(0.5);
    expect(Number.isNaN(store.loss[1] as number)).toBe(true);
    expect([0, 1, 2].map((i) => store.value(1, i))).toEqual(["sgd", "adam", "rmsprop"]);
    expect(store.labels(1)).toEqual(["adam", "sgd", "rmsprop"]);
    expect(store.value(0, 1)).toBeCloseTo(0.001, 9); // parameters travel as float32
    expect(Math.abs((store.value(0, 1) as number) / 0.001 - 1)).toBeLessThan(1e-7);
    expect(store.reasons["2"]).toBe('OOM, "killed"');
  });

  it("the store takes live rows: new points in id order, outcomes, new categories", () => {
    const params = paramsOf(req(), pts);
    const store = new PointStore(params);
    store.merge(["lr", "opt"], [pointRowOf(pts[2] as Point, params), pointRowOf(pts[0] as Point, params)]);
    expect([...store.view(store.ids)]).toEqual([1, 3]);
    store.merge(["lr", "opt"], [{ ...pointRowOf(pts[2] as Point, params), state: 1, loss: 0.25 }]);
    expect(store.loss[1]).toBe(0.25);
    expect(store.value(1, 1)).toBe("rmsprop");
    expect(store.size).toBe(2);
  });

  it("points sent in frames, sets in any order and bytes cut anywhere, make the same store as one frame", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = seeded(seed);
      const all: Point[] = Array.from({ length: 1 + Math.floor(rnd() * 300) }, (_, k) => {
        const state = (["New", "Evaluated", "Failed"] as const)[Math.floor(rnd() * 3)] as Point["state"];
        return {
          id: String(k + 1),
          generation: Math.floor(k / 50),
          state,
          ...(state === "Evaluated" ? { loss: rnd() } : {}),
          ...(state === "Failed" ? { reason: `failed ${k}` } : {}),
          params: { lr: rnd(), opt: ["adam", "sgd", "rmsprop", 3][Math.floor(rnd() * 4)] },
          set: `mnist-${Math.floor(k / 8) + 1}`,
        };
      });
      // Sets of 8 points, listed in any order, a frame every few sets.
      const sets = shuffle(
        Array.from({ length: Math.ceil(all.length / 8) }, (_, k) => all.slice(k * 8, k * 8 + 8)),
        rnd,
      );
      const frames: Buffer[] = [];
      while (sets.length > 0) {
        const batch = sets.splice(0, 1 + Math.floor(rnd() * 5)).flat();
        batch.sort((a, b) => Number(a.id) - Number(b.id));
        frames.push(encodePoints(batch, paramsOf(req(), batch)));
      }
      const bytes = Buffer.concat(frames);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rnd() * 700);
        chunks.push(new Uint8Array(bytes.subarray(at, at + n)));
        at += n;
      }
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          const next = chunks.shift();
          if (next) c.enqueue(next);
          else c.close();
        },
      });
      const params = paramsOf(req(), []);
      const got: PointStore[] = [];
      for await (const f of readFrames(body)) got.push(PointStore.decode(params, f));
      expect(got).toHaveLength(frames.length);
      const store = got[0] as PointStore;
      for (const f of got.slice(1)) store.absorb(f);
      const whole = PointStore.decode(params, arrayBuffer(encodePoints(all, paramsOf(req(), all))));
      expect(snapshot(store)).toEqual(snapshot(whole));
    }
  });

  it("a frame's copy of a point replaces the store's, unless a live update changed it meanwhile", () => {
    const params = paramsOf(req(), pts);
    const frame = (points: Point[]) => PointStore.decode(params, arrayBuffer(encodePoints(points, params)));
    const store = frame([pts[0] as Point]);
    // Point 3 arrived by a live update with a loss; point 1 has a newer copy in the next frame.
    store.merge(["lr", "opt"], [{ ...pointRowOf(pts[2] as Point, params), state: 1, loss: 0.25 }]);
    const newer = { ...(pts[0] as Point), loss: 0.125 };
    store.absorb(frame([newer, pts[1] as Point, pts[2] as Point]), new Set([3]));
    expect(snapshot(store).rows).toEqual([
      // Parameters travel as float32 in frames; the live update's keep every digit.
      [1, 0, 1, 0.125, `${Math.fround(0.01)}|sgd`],
      [2, 1, 2, Number.NaN, `${Math.fround(0.001)}|adam`],
      [3, 1, 1, 0.25, "0.02|rmsprop"],
    ]);
    expect(store.reasons).toEqual({ "2": 'OOM, "killed"' });
  });

  it("changedPoints sends only new points and new outcomes", () => {
    const set = (losses: Record<string, number>): HyperParameterSet => ({
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HyperParameterSet",
      metadata: { name: "mnist-1" },
      spec: { request: "mnist", firstId: 1, lastId: 8, losses },
      status: {
        points: [
          { id: "1", generation: 1, params: { lr: 0.1 } },
          { id: "2", generation: 1, params: { lr: 0.2 } },
        ],
      },
    });
    const before = set({});
    expect(changedPoints(before, undefined, undefined).map((p) => p.id)).toEqual(["1", "2"]);
    expect(changedPoints(set({ "2": 0.3 }), before, undefined).map((p) => [p.id, p.loss])).toEqual([
      ["2", 0.3],
    ]);
  });
});

describe("generations, events and exports", () => {
  it("generationsOf counts points per generation and adds the Jobs of a container generator", () => {
    const rows = generationsOf(
      req({ lastGeneration: { number: 1, state: "Succeeded", message: "added 2 points" } }, "container"),
      pts,
      [
        {
          metadata: { name: "mnist-gen-1", labels: { "hpo.dev/generation": "1" } },
          status: {
            startTime: "2026-01-01T00:00:00Z",
            completionTime: "2026-01-01T00:00:12Z",
            failed: 1,
            conditions: [{ type: "Complete", status: "True" }],
          },
        },
      ],
      [
        {
          metadata: { name: "mnist-gen-1-abc", labels: { "batch.kubernetes.io/job-name": "mnist-gen-1" } },
          status: { phase: "Succeeded" },
        },
      ],
    );
    expect(rows).toEqual([
      { number: 0, points: 1, evaluated: 1, failed: 0, firstId: 1, lastId: 1 },
      {
        number: 1,
        points: 2,
        evaluated: 0,
        failed: 1,
        firstId: 2,
        lastId: 3,
        job: "mnist-gen-1",
        pods: ["mnist-gen-1-abc (Succeeded)"],
        state: "Succeeded",
        startedAt: "2026-01-01T00:00:00Z",
        completedAt: "2026-01-01T00:00:12Z",
        durationSeconds: 12,
        failures: 1,
        message: "added 2 points",
      },
    ]);
  });

  it("eventRows puts the newest first, with series counts", () => {
    const rows = eventRows([
      {
        reason: "A",
        message: "old",
        lastTimestamp: "2026-01-01T00:00:00Z",
        involvedObject: { kind: "HPORequest", name: "x" },
      },
      { reason: "B", message: "new", series: { count: 4, lastObservedTime: "2026-01-02T00:00:00Z" } },
    ]);
    expect(rows.map((r) => [r.reason, r.count])).toEqual([
      ["B", 4],
      ["A", 1],
    ]);
    expect(rows[1]?.object).toBe("hporequest/x");
  });

  it("exports CSV (quoted as RFC 4180 says) and JSON in kubectl hpo get's shape", () => {
    const params = paramsOf(req(), pts);
    const rows = pts.map((p) => pointRowOf(p, params));
    expect([...csvLines(rows, params)].join("")).toBe(
      'id,generation,state,loss,reason,lr,opt\n1,0,evaluated,0.5,,0.01,sgd\n2,1,failed,,"OOM, ""killed""",0.001,adam\n3,1,new,,,0.02,rmsprop\n',
    );
    expect(jsonPoint(rows[0] as ReturnType<typeof pointRowOf>, params)).toEqual({
      id: "1",
      generation: 0,
      state: "Evaluated",
      loss: 0.5,
      params: { lr: 0.01, opt: "sgd" },
    });
  });

  it("parseStateFilter reads the export's ?state= and says what is wrong", () => {
    expect([...(parseStateFilter("new,failed") as Set<number>)]).toEqual([0, 2]);
    expect((parseStateFilter(null) as Set<number>).size).toBe(3);
    expect((parseStateFilter("done") as Error).message).toBe(
      'unknown state "done": use new, evaluated, failed or all',
    );
  });

  it("formatEvent writes one server-sent event", () => {
    expect(formatEvent("points", { rows: [] })).toBe('event: points\ndata: {"rows":[]}\n\n');
  });
});
