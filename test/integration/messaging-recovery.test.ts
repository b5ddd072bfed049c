/**
 * At least once, under failure, on a real ActiveMQ with the real operator process: the broker stopped
 * for 30 s in the middle of a run (generation goes on; every batch arrives after the restart, none
 * lost), and the operator killed between storing a batch and the broker's receipt (the batch is
 * sent by the next operator).
 */
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from "vitest";
import type { HPORequest } from "../../src/api/index.ts";
import { type Broker, startBroker } from "../support/activemq.ts";
import {
  applyRequest,
  getRequest,
  points,
  reportLosses,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";
import { type Subscriber, subscribe } from "../support/stomp.ts";

const space = { x: { type: "float", low: 0, high: 1 }, y: { type: "float", low: -1, high: 1 } };

let broker: Broker;
const procs: OperatorProcess[] = [];
const namespaces: string[] = [];
const subs: Subscriber[] = [];

beforeAll(async () => {
  broker = await startBroker();
}, 120_000);
afterAll(async () => {
  await Promise.all(subs.map((s) => s.close()));
  await Promise.all(procs.map((p) => p.kill("SIGKILL")));
  for (const ns of namespaces) deleteNamespace(ns);
  await broker?.destroy();
});

async function operator(ns: string): Promise<OperatorProcess> {
  const p = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--broker-heartbeat=1s", "--broker-receipt-timeout=3s"],
    env: { HPO_BROKERS: broker.address },
  });
  procs.push(p);
  onTestFailed(() => {
    process.stderr.write(`--- operator logs (${ns}):\n${p.logs().slice(-30_000)}\n`);
  });
  return p;
}

function ns(prefix: string): string {
  const n = newNamespace(prefix);
  namespaces.push(n);
  return n;
}

const announced = async (n: string, name: string) =>
  (await getRequest(n, name))?.status?.conditions?.find((c) => c.type === "Announced");

/** sameBatchContent checks that every message of a generation (resends included) carries the stored points. */
async function checkAll(sub: Subscriber, n: string, name: string, generations: number): Promise<void> {
  const req = (await getRequest(n, name)) as HPORequest;
  const stored = await points(n, name);
  const uid = req.metadata?.uid ?? "";
  for (let g = 1; g <= generations; g++) {
    const got = sub.of(name).filter((m) => m.headers.hpo_message_id === `${uid}/batch/${g}`);
    expect(got.length, `messages of generation ${g}`).toBeGreaterThanOrEqual(1);
    const files = stored
      .filter((p) => p.generation === g)
      .map((p) => ({
        scope: "hpo",
        name: p.id,
        path: JSON.stringify([p.params, null]),
        map_id: Number(p.id),
        content_id: Number(p.id),
        external_coll_id: null,
        external_content_id: null,
        status: "New",
      }));
    for (const m of got) expect(m.body.files).toEqual(files);
  }
}

/** pacedTrainer reports a loss for every new point every periodMs, so a run spans minutes. */
function pacedTrainer(n: string, name: string, periodMs: number) {
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await new Promise((r) => setTimeout(r, periodMs));
      const fresh = (await points(n, name).catch(() => [])).filter((p) => p.state === "New");
      if (fresh.length) await reportLosses(n, name, Object.fromEntries(fresh.map((p) => [p.id, 0.5])));
    }
  })();
  return {
    stop: async () => {
      stop = true;
      await loop;
    },
  };
}

describe("the broker stopped for 30 s in the middle of a run", () => {
  it("generation goes on, the condition shows it, and every batch arrives after the restart", async () => {
    const n = ns("mq-outage");
    const op = await operator(n);
    const dest = "/queue/outage";
    const sub = await subscribe(broker.port, [dest]);
    subs.push(sub);
    const spec = { method: "random", searchSpace: space, maxPoints: 45, pointsPerGeneration: 3, seed: 9 };
    applyRequest(n, "outage", { ...spec, notification: { destination: dest } });
    const fleet = pacedTrainer(n, "outage", 4_000);
    await sub.until("two batches before the outage", (ms) => ms.length >= 2);
    await broker.stop();
    const stoppedAt = Date.now();
    const before = (await points(n, "outage")).length;
    const down = await waitFor("Announced=False while the broker is down", async () => {
      const c = await announced(n, "outage");
      return c?.status === "False" ? c : undefined;
    });
    expect(down.reason).toMatch(/BrokerUnavailable|ReceiptTimeout/);
    expect(await op.metrics()).toMatch(/hpo_broker_connected 0/);
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
    const during = (await points(n, "outage")).length;
    expect(during, "generation went on while the broker was down").toBeGreaterThan(before);
    const backlog = (await getRequest(n, "outage"))?.status?.notification?.unconfirmedBatches ?? 0;
    expect(backlog).toBeGreaterThan(0);

    await broker.start();
    await waitForPhase(n, "outage", "Finished", 90_000);
    await fleet.stop();
    const uid = (await getRequest(n, "outage"))?.metadata?.uid;
    await sub.until(
      "the end message",
      (ms) => ms.some((m) => m.headers.hpo_message_id === `${uid}/end/15`),
      60_000,
    );
    await checkAll(sub, n, "outage", 15);
    await waitFor("Announced=True again", async () => (await announced(n, "outage"))?.status === "True");
    const final = await getRequest(n, "outage");
    expect(final?.status?.notification).toMatchObject({ confirmedGeneration: 15, unconfirmedBatches: 0 });
    process.stderr.write(
      `broker outage: ${during - before} points generated while down, backlog ${backlog} batches, ` +
        `${sub.of("outage").length} messages received for 16 distinct ids\n`,
    );
  }, 240_000);
});

describe("the operator killed between storing a batch and the receipt", () => {
  it("sends the batch after the restart", async () => {
    const n = ns("mq-kill");
    const dest = "/queue/killed";
    await broker.stop();
    let op = await operator(n);
    applyRequest(n, "killed", {
      method: "random",
      searchSpace: space,
      maxPoints: 3,
      notification: { destination: dest },
    });
    await waitForPoints(n, "killed", 3);
    // Stored, and the announcer tried and could not get a receipt: kill it there.
    await waitFor(
      "a failed delivery",
      async () => (await announced(n, "killed"))?.status === "False",
      30_000,
    );
    expect((await getRequest(n, "killed"))?.status?.notification?.confirmedGeneration).toBeUndefined();
    await op.kill("SIGKILL");
    await broker.start();
    const sub = await subscribe(broker.port, [dest]);
    subs.push(sub);
    op = await operator(n);
    await sub.until("the batch from the restarted operator", (ms) => ms.length >= 1, 60_000);
    await checkAll(sub, n, "killed", 1);
    const req = await waitFor("the watermark", async () => {
      const r = await getRequest(n, "killed");
      return r?.status?.notification?.confirmedGeneration === 1 ? r : undefined;
    });
    expect(req.status?.notification?.unconfirmedBatches).toBe(0);
  }, 120_000);
});
