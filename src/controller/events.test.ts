import { describe, expect, it } from "vitest";
import type { KubeClient } from "../runtime/client.ts";
import { ApiError, NotFoundError } from "../runtime/errors.ts";
import { EventCorrelator } from "./correlator.ts";
import { EventRecorder } from "./events.ts";

const target = {
  apiVersion: "hpo.dev/v1alpha1",
  kind: "HPORequest",
  metadata: { name: "r", namespace: "ns", uid: "u-1", resourceVersion: "7" },
};

/** world is an EventRecorder over a fake client that records creates and patches, on a clock that stands still. */
function world(opts: { gone?: boolean; failCreate?: boolean } = {}) {
  const created: { path: string; body: Record<string, unknown> }[] = [];
  const patched: { path: string; body: Record<string, unknown> }[] = [];
  const errors: unknown[] = [];
  const client = {
    async create(path: string, body: Record<string, unknown>) {
      if (opts.failCreate) throw new ApiError(403, "events is forbidden");
      created.push({ path, body });
      return body;
    },
    async mergePatch(path: string, body: Record<string, unknown>) {
      if (opts.gone) throw new NotFoundError(404, "gone");
      patched.push({ path, body });
      return body;
    },
  };
  const recorder = new EventRecorder(
    client as unknown as KubeClient,
    "hpo-operator",
    (e) => errors.push(e),
    new EventCorrelator({ now: () => 0 }),
  );
  return {
    recorder,
    created,
    patched,
    errors,
  };
}

describe("EventRecorder", () => {
  it("creates an Event about the object, and does not send a repeat again", async () => {
    const w = world();
    w.recorder.record(target, "Warning", "GenerationFailed", "boom");
    w.recorder.record(target, "Warning", "GenerationFailed", "boom");
    await w.recorder.flush();
    expect(w.created).toHaveLength(1);
    const ev = w.created[0];
    expect(ev?.path).toBe("/api/v1/namespaces/ns/events");
    expect(ev?.body).toMatchObject({
      involvedObject: { kind: "HPORequest", name: "r", namespace: "ns", uid: "u-1" },
      type: "Warning",
      reason: "GenerationFailed",
      message: "boom",
      count: 1,
      source: { component: "hpo-operator" },
    });
    expect(w.patched).toEqual([]);
    expect(w.recorder.dropped).toBe(1);
  });

  it("sends at most a burst of events per object, and clips long messages", async () => {
    const w = world();
    for (let i = 0; i < 40; i++) w.recorder.record(target, "Warning", `R${i}`, "x".repeat(2000));
    await w.recorder.flush();
    expect(w.created).toHaveLength(25);
    expect(String(w.created[0]?.body.message).length).toBe(1024);
  });

  it("reports a failed post to onError and goes on", async () => {
    const w = world({ failCreate: true });
    w.recorder.record(target, "Normal", "SetCreated", "made r-1");
    await w.recorder.flush();
    expect(w.errors).toHaveLength(1);
    expect((w.errors[0] as Error).message).toContain("forbidden");
  });
});
