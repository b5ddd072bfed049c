/**
 * Announcing points on a real ActiveMQ (Debian's package, STOMP on 127.0.0.1) with the real operator
 * process: every batch of a full lifecycle arrives once with the exact content and headers, the
 * documented consumer example reads them, requests with different destinations stay apart, an
 * connection over TLS works, an operator without brokers says so, and wrong credentials give a clear condition and event while
 * generation goes on (and a fixed password file is picked up without a restart).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from "vitest";
import type { HPORequest, Point } from "../../src/api/index.ts";
import { type Broker, startBroker } from "../support/activemq.ts";
import { freePort, repoRoot } from "../support/controlplane.ts";
import {
  applyRequest,
  eventsOf,
  getRequest,
  points,
  reportLosses,
  startTrainer,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";
import { type Received, type Subscriber, subscribe } from "../support/stomp.ts";

const space = {
  x: { type: "float", low: 0, high: 1 },
  k: { type: "int", low: 1, high: 5 },
  opt: { type: "categorical", choices: ["a", "b"] },
};

let broker: Broker;
let secured: Broker;
const procs: OperatorProcess[] = [];
const namespaces: string[] = [];
const subs: Subscriber[] = [];
const dir = mkdtempSync(join(tmpdir(), "hpo-messaging-"));

beforeAll(async () => {
  [broker, secured] = await Promise.all([
    startBroker({ tls: true }),
    startBroker({ users: [{ username: "hpo", password: "right-pass" }] }),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all(subs.map((s) => s.close()));
  await Promise.all(procs.map((p) => p.kill("SIGTERM")));
  for (const ns of namespaces) deleteNamespace(ns);
  await Promise.all([broker?.destroy(), secured?.destroy()]);
  rmSync(dir, { recursive: true, force: true });
});

async function operator(prefix: string, env: Record<string, string>): Promise<string> {
  const ns = newNamespace(prefix);
  namespaces.push(ns);
  const p = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`],
    env,
  });
  procs.push(p);
  onTestFailed(() => {
    process.stderr.write(`--- operator logs (${ns}):\n${p.logs().slice(-30_000)}\n`);
  });
  return ns;
}

async function listen(b: Broker, destinations: string[], login?: { login: string; passcode: string }) {
  const s = await subscribe(b.port, destinations, login);
  subs.push(s);
  return s;
}

const idOf = (req: HPORequest) =>
  Number.parseInt((req.metadata?.uid ?? "").replace(/-/g, "").slice(0, 13), 16);

/** expectBatch checks every field and header of a batch message against the stored points. */
function expectBatch(
  m: Received | undefined,
  req: HPORequest,
  gen: number,
  pts: Point[],
  dest: string,
): void {
  const uid = req.metadata?.uid ?? "";
  const rid = idOf(req);
  const mine = pts.filter((p) => p.generation === gen).sort((a, b) => Number(a.id) - Number(b.id));
  expect(m?.body).toEqual({
    msg_type: "file_hyperparameteropt",
    request_id: rid,
    workload_id: rid,
    transform_id: rid,
    relation_type: "input",
    files: mine.map((p) => ({
      scope: "hpo",
      name: p.id,
      path: JSON.stringify([p.params, null]),
      map_id: Number(p.id),
      content_id: Number(p.id),
      external_coll_id: null,
      external_content_id: null,
      status: "New",
    })),
    message_id: `${uid}/batch/${gen}`,
    generation: gen,
    kubernetes: { namespace: req.metadata?.namespace, name: req.metadata?.name, uid },
  });
  expect(m?.headers).toMatchObject({
    destination: dest,
    persistent: "true",
    ttl: "43200000",
    vo: "atlas",
    from_idds: "true",
    msg_type: "messagetype.hyperparameteroptfile",
    "content-type": "application/json",
    hpo_namespace: req.metadata?.namespace,
    hpo_name: req.metadata?.name,
    hpo_uid: uid,
    hpo_message_id: `${uid}/batch/${gen}`,
    request_id: String(rid),
    workload_id: String(rid),
  });
}

function startConsumer(b: Broker) {
  const child = spawn(process.execPath, [join(repoRoot, "examples/consume-points.ts"), "--until-end"], {
    env: { ...process.env, HPO_BROKERS: b.address, HPO_BROKER_DESTINATION: "/topic/hpo.points" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe("a full lifecycle announced on the default topic", () => {
  it("every batch arrives once, in order, with the exact content; then the end; the example consumer reads them", async () => {
    // A dead broker in the list too: whichever the random order tries first, the live one is found.
    const dead = `127.0.0.1:${await freePort()}`;
    const ns = await operator("mq-life", { HPO_BROKERS: `${dead},${broker.address}` });
    const sub = await listen(broker, ["/topic/hpo.points"]);
    const consumer = startConsumer(broker);
    await waitFor(
      "the example consumer to listen",
      async () => consumer.err().includes("listening on"),
      30_000,
    );
    applyRequest(ns, "life", {
      method: "random",
      searchSpace: space,
      maxPoints: 8,
      pointsPerGeneration: 3,
      seed: 5,
      initialPoints: [
        { params: { x: 0.5, k: 2, opt: "a" }, loss: 0.25 },
        { params: { x: 0.1, k: 4, opt: "b" } },
      ],
    });
    const fleet = startTrainer(ns, "life");
    await waitForPhase(ns, "life", "Finished", 60_000);
    await fleet.stop();
    await sub.until("the end message", (ms) =>
      ms.some((m) => m.body.msg_type === "collection_hyperparameteropt"),
    );
    const req = (await getRequest(ns, "life")) as HPORequest;
    const uid = req.metadata?.uid ?? "";
    const stored = await points(ns, "life");
    const got = sub.of("life");
    // Once each, in generation order; generation 0 holds only the initial point given without a loss.
    expect(got.map((m) => m.headers.hpo_message_id)).toEqual([
      `${uid}/batch/0`,
      `${uid}/batch/1`,
      `${uid}/batch/2`,
      `${uid}/end/2`,
    ]);
    expectBatch(
      got[0],
      req,
      0,
      stored.filter((p) => p.id === "2"),
      "/topic/hpo.points",
    );
    expectBatch(got[1], req, 1, stored, "/topic/hpo.points");
    expectBatch(got[2], req, 2, stored, "/topic/hpo.points");
    const rid = idOf(req);
    expect(got[3]?.body).toEqual({
      msg_type: "collection_hyperparameteropt",
      request_id: rid,
      workload_id: rid,
      transform_id: rid,
      relation_type: "output",
      collections: [{ scope: "hpo", name: `${ns}/life`, status: "Available" }],
      output: { status: "Finished", msg: req.status?.message },
      error: null,
      message_id: `${uid}/end/2`,
      generations: 2,
      kubernetes: { namespace: ns, name: "life", uid },
    });
    expect(got[3]?.headers).toMatchObject({
      msg_type: "messagetype.hyperparameteroptcollection",
      persistent: "true",
    });

    const final = await waitFor("the watermark of the end", async () => {
      const r = await getRequest(ns, "life");
      return r?.status?.notification?.endConfirmed === "Finished/2" ? r : undefined;
    });
    expect(final.status?.notification).toMatchObject({
      enabled: true,
      requestId: rid,
      workloadId: rid,
      destination: "/topic/hpo.points",
      confirmedGeneration: 2,
      confirmedMessages: 4,
      unconfirmedBatches: 0,
    });
    expect(final.status?.conditions?.find((c) => c.type === "Announced")).toMatchObject({
      status: "True",
      reason: "Delivered",
    });
    // The reconciler's fields survived the announcer's writes.
    expect(final.status?.phase).toBe("Finished");
    expect(final.status?.points).toEqual({ total: 8, evaluated: 8, unevaluated: 0, failed: 0 });

    const metrics = await procs[0]?.metrics();
    expect(metrics).toMatch(/hpo_messages_sent_total\{msg_type="file_hyperparameteropt"\} 3/);
    expect(metrics).toMatch(/hpo_messages_sent_total\{msg_type="collection_hyperparameteropt"\} 1/);
    expect(metrics).toMatch(/hpo_broker_connected 1/);
    expect(metrics).toMatch(/hpo_messages_unconfirmed 0/);

    // The documented consumer printed each point once and stopped at the end.
    expect(await consumer.exited).toBe(0);
    const lines = consumer
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.id).map((l) => l.id)).toEqual(["2", "3", "4", "5", "6", "7", "8"]);
    expect(lines.find((l) => l.id === "5")?.params).toEqual(stored.find((p) => p.id === "5")?.params);
    expect(lines.at(-1)).toEqual({ request: `${ns}/life`, workload_id: rid, end: "Finished" });
  }, 120_000);

  it("two requests with different destinations: each message goes to its own", async () => {
    const ns = namespaces[0] as string;
    const sub = await listen(broker, ["/queue/team-left", "/topic/team-right"]);
    applyRequest(ns, "left", {
      method: "random",
      searchSpace: space,
      maxPoints: 3,
      notification: { destination: "/queue/team-left" },
    });
    applyRequest(ns, "right", {
      method: "sobol",
      searchSpace: space,
      maxPoints: 2,
      notification: { destination: "/topic/team-right" },
    });
    await sub.until("both batches", (ms) => ms.length >= 2 && ms);
    const [left, right] = [
      (await getRequest(ns, "left")) as HPORequest,
      (await getRequest(ns, "right")) as HPORequest,
    ];
    const l = sub.messages.filter((m) => m.destination === "/queue/team-left");
    const r = sub.messages.filter((m) => m.destination === "/topic/team-right");
    expect(l).toHaveLength(1);
    expect(r).toHaveLength(1);
    expectBatch(l[0], left, 1, await points(ns, "left"), "/queue/team-left");
    expectBatch(r[0], right, 1, await points(ns, "right"), "/topic/team-right");
  }, 60_000);
});

describe("over TLS", () => {
  it("HPO_BROKER_TLS=true reaches a stomp+ssl connector whose certificate is trusted", async () => {
    const ns = await operator("mq-tls", {
      HPO_BROKERS: broker.tlsAddress as string,
      HPO_BROKER_TLS: "true",
      HPO_BROKER_DESTINATION: "/queue/tls",
      NODE_EXTRA_CA_CERTS: broker.caFile as string,
    });
    const sub = await listen(broker, ["/queue/tls"]);
    applyRequest(ns, "tls", { method: "random", searchSpace: space, maxPoints: 2 });
    await sub.until("the batch over TLS", (ms) => ms.length >= 1);
    expectBatch(
      sub.messages[0],
      (await getRequest(ns, "tls")) as HPORequest,
      1,
      await points(ns, "tls"),
      "/queue/tls",
    );
  }, 60_000);
});

describe("without brokers", () => {
  it("messaging is off and each request's status says so", async () => {
    const ns = await operator("mq-off", {});
    applyRequest(ns, "quiet", { method: "random", searchSpace: space, maxPoints: 3 });
    await waitForPoints(ns, "quiet", 3);
    // Both controllers' fields end up side by side, whichever wrote first.
    const req = await waitFor("the Announced condition beside the phase", async () => {
      const r = await getRequest(ns, "quiet");
      return r?.status?.phase === "Waiting" && r.status.conditions?.some((c) => c.type === "Announced")
        ? r
        : undefined;
    });
    expect(req.status?.conditions?.find((c) => c.type === "Announced")).toMatchObject({
      status: "False",
      reason: "MessagingDisabled",
    });
    expect(req.status?.notification).toMatchObject({ enabled: false, requestId: idOf(req) });
    expect(req.status?.phase).toBe("Waiting");
  }, 60_000);
});

describe("wrong credentials", () => {
  it("a clear condition and a Warning event, generation goes on; a fixed password file is picked up", async () => {
    const passwordFile = join(dir, "password");
    writeFileSync(passwordFile, "wrong-pass\n");
    const ns = await operator("mq-auth", {
      HPO_BROKERS: secured.address,
      HPO_BROKER_USERNAME: "hpo",
      HPO_BROKER_PASSWORD_FILE: passwordFile,
      HPO_BROKER_DESTINATION: "/queue/secured",
    });
    applyRequest(ns, "locked", {
      method: "random",
      searchSpace: space,
      maxPoints: 6,
      pointsPerGeneration: 3,
    });
    await waitForPoints(ns, "locked", 3);
    const req = await waitFor(
      "Announced=False",
      async () => {
        const r = await getRequest(ns, "locked");
        const c = r?.status?.conditions?.find((x) => x.type === "Announced");
        return c?.status === "False" ? { r, c } : undefined;
      },
      30_000,
    );
    expect(req.c.reason).toBe("BrokerRefused");
    expect(req.c.message).toMatch(/refused the connection: User name \[hpo\] or password is invalid/);
    expect(req.r?.status?.phase).toBe("Waiting");
    expect(req.r?.status?.notification).toMatchObject({ unconfirmedBatches: 1 });
    const events = await waitFor("the AnnounceFailed event", async () => {
      const ev = (await eventsOf(ns, "locked")).filter((e) => e.reason === "AnnounceFailed");
      return ev.length > 0 && ev;
    });
    expect(events[0]).toMatchObject({ type: "Warning" });
    expect(events[0]?.message).toContain("password is invalid");

    // Generation is not blocked: the next batch is stored while nothing can be announced.
    const first = await points(ns, "locked");
    await reportLosses(ns, "locked", Object.fromEntries(first.map((p) => [p.id, 0.5])));
    await waitForPoints(ns, "locked", 6);

    // The Secret is fixed (the file rewritten): the next connect uses it, and both batches arrive.
    const sub = await listen(secured, ["/queue/secured"], { login: "hpo", passcode: "right-pass" });
    writeFileSync(passwordFile, "right-pass\n");
    await sub.until("both batches after the fix", (ms) => ms.length >= 2, 60_000);
    const fixed = (await getRequest(ns, "locked")) as HPORequest;
    const all = await points(ns, "locked");
    expectBatch(sub.messages[0], fixed, 1, all, "/queue/secured");
    expectBatch(sub.messages[1], fixed, 2, all, "/queue/secured");
    await waitFor("Announced=True", async () => {
      const r = await getRequest(ns, "locked");
      return r?.status?.conditions?.find((c) => c.type === "Announced")?.status === "True";
    });
  }, 120_000);
});
