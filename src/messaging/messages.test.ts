import { describe, expect, it } from "vitest";
import type { HPORequest, Point } from "../api/index.ts";
import { batchMessage, endMessage, identityOf, requestIdOf, WorkloadAnnotation } from "./messages.ts";

const uid = "3f2a9c1e-7b4d-4e2a-9f00-1234567890ab";
const req = (annotations?: Record<string, string>): HPORequest => ({
  apiVersion: "hpo.dev/v1alpha1",
  kind: "HPORequest",
  metadata: { name: "mnist", namespace: "team-a", uid, annotations },
  spec: { method: "random" },
});
const pts: Point[] = [
  { id: "7", params: { lr: 0.01, opt: "adam" }, generation: 2, state: "New", set: "r-1" },
  { id: "8", params: { lr: 0.2, opt: "sgd" }, generation: 2, state: "Evaluated", loss: 0.3, set: "r-1" },
];
const opts = { destination: "/topic/hpo.points", ttlMs: 0, now: 1_000 };

describe("identity", () => {
  it("derives request_id from the uid's first 52 bits, stable and safe", () => {
    expect(requestIdOf(uid)).toBe(0x3f2a9c1e7b4d4);
    expect(Number.isSafeInteger(requestIdOf("ffffffff-ffff-ffff-ffff-ffffffffffff"))).toBe(true);
    expect(requestIdOf("")).toBe(1);
  });
  it("takes workload_id from the annotation when it is a number, else request_id", () => {
    expect(identityOf(req({ [WorkloadAnnotation]: "4711" })).workloadId).toBe(4711);
    expect(identityOf(req({ [WorkloadAnnotation]: "task-9" })).workloadId).toBe(requestIdOf(uid));
    expect(identityOf(req()).workloadId).toBe(requestIdOf(uid));
  });
});

describe("batchMessage", () => {
  it("is the iDDS file_hyperparameteropt shape with the extra ids", () => {
    const m = batchMessage(identityOf(req()), 2, pts, opts);
    const rid = requestIdOf(uid);
    expect(JSON.parse(m.body)).toEqual({
      msg_type: "file_hyperparameteropt",
      request_id: rid,
      workload_id: rid,
      transform_id: rid,
      relation_type: "input",
      files: [
        {
          scope: "hpo",
          name: "7",
          path: '[{"lr":0.01,"opt":"adam"},null]',
          map_id: 7,
          content_id: 7,
          external_coll_id: null,
          external_content_id: null,
          status: "New",
        },
        {
          scope: "hpo",
          name: "8",
          path: '[{"lr":0.2,"opt":"sgd"},null]',
          map_id: 8,
          content_id: 8,
          external_coll_id: null,
          external_content_id: null,
          status: "New",
        },
      ],
      message_id: `${uid}/batch/2`,
      generation: 2,
      kubernetes: { namespace: "team-a", name: "mnist", uid },
    });
    // iDDS's headers (idds agents/common/plugins/messaging.py), then ours.
    expect(m.headers).toEqual({
      persistent: "true",
      ttl: "43200000",
      vo: "atlas",
      from_idds: "true",
      msg_type: "messagetype.hyperparameteroptfile",
      "content-type": "application/json",
      hpo_namespace: "team-a",
      hpo_name: "mnist",
      hpo_uid: uid,
      hpo_message_id: `${uid}/batch/2`,
      request_id: String(rid),
      workload_id: String(rid),
    });
    expect(m.destination).toBe("/topic/hpo.points");
  });
  it("is the same on every resend; a ttl sets ttl and expires; vo is configurable", () => {
    const a = batchMessage(identityOf(req()), 2, pts, opts);
    expect(batchMessage(identityOf(req()), 2, pts, { ...opts, now: 5 })).toEqual(a);
    expect(a.headers.expires).toBeUndefined();
    const t = batchMessage(identityOf(req()), 2, pts, { ...opts, ttlMs: 60_000, vo: "rubin" });
    expect(t.headers).toMatchObject({ ttl: "60000", expires: "61000", vo: "rubin" });
  });
});

describe("endMessage", () => {
  it("is the iDDS collection_hyperparameteropt shape with the final status", () => {
    const m = endMessage(
      identityOf(req({ [WorkloadAnnotation]: "42" })),
      { phase: "Finished", message: "done", generations: 3 },
      opts,
    );
    expect(JSON.parse(m.body)).toEqual({
      msg_type: "collection_hyperparameteropt",
      request_id: requestIdOf(uid),
      workload_id: 42,
      transform_id: requestIdOf(uid),
      relation_type: "output",
      collections: [{ scope: "hpo", name: "team-a/mnist", status: "Available" }],
      output: { status: "Finished", msg: "done" },
      error: null,
      message_id: `${uid}/end/3`,
      generations: 3,
      kubernetes: { namespace: "team-a", name: "mnist", uid },
    });
    expect(m.headers.msg_type).toBe("messagetype.hyperparameteroptcollection");
    const failed = endMessage(
      identityOf(req()),
      { phase: "Failed", message: "no image", generations: 1 },
      opts,
    );
    expect(JSON.parse(failed.body).error).toBe("no image");
  });
});
