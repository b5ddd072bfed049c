/**
 * Broker tenancy on the real ActiveMQ, over TLS as the chart sets it: the admin confines each
 * namespace to its own topics and allows workload ids per namespace; a request outside the policy
 * gets a clear condition and Warning event and nothing of it reaches the broker, while its points
 * are still generated; fixing the request announces what was stored.
 */
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from "vitest";
import type { HPORequest } from "../../src/api/index.ts";
import { type Broker, startBroker } from "../support/activemq.ts";
import { eventsOf, getRequest, waitFor, waitForPoints } from "../support/hpo.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";
import { type Subscriber, subscribe } from "../support/stomp.ts";

let broker: Broker;
let op: OperatorProcess;
let sub: Subscriber;
let teamA = "";
let teamB = "";

beforeAll(async () => {
  teamA = newNamespace("mq-team-a");
  teamB = newNamespace("mq-team-b");
  broker = await startBroker({ tls: true });
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${teamA},${teamB}`],
    env: {
      HPO_BROKERS: broker.tlsAddress as string,
      HPO_BROKER_TLS: "true",
      NODE_EXTRA_CA_CERTS: broker.caFile as string,
      HPO_BROKER_DESTINATION: "/topic/hpo.{namespace}.points",
      HPO_BROKER_ALLOWED_DESTINATIONS: "/topic/hpo.{namespace}.*",
      HPO_BROKER_WORKLOAD_IDS: `${teamA}=100-199`,
    },
  });
  // Everything the operator publishes under hpo. reaches this subscriber (an ActiveMQ wildcard).
  sub = await subscribe(broker.port, ["/topic/hpo.>"]);
}, 120_000);
afterAll(async () => {
  await sub?.close();
  await op?.kill("SIGTERM");
  await broker?.destroy();
  deleteNamespace(teamA);
  deleteNamespace(teamB);
});

const space = { x: { type: "float", low: 0, high: 1 } };

/** apply creates a random request of 2 points with an optional destination and workload id. */
function apply(ns: string, name: string, destination?: string, workloadId?: string): void {
  onTestFailed(() => {
    process.stderr.write(`--- operator logs:\n${op.logs().slice(-20_000)}\n`);
  });
  const body = {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: {
      name,
      namespace: ns,
      ...(workloadId ? { annotations: { "hpo.dev/workload-id": workloadId } } : {}),
    },
    spec: {
      method: "random",
      searchSpace: space,
      maxPoints: 2,
      pointsPerGeneration: 2,
      ...(destination ? { notification: { destination } } : {}),
    },
  };
  kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(body));
}

/** announced waits for the request's Announced condition with the given reason. */
function announced(ns: string, name: string, reason: string): Promise<HPORequest> {
  return waitFor(`Announced=${reason} on ${ns}/${name}`, async () => {
    const r = await getRequest(ns, name);
    return r?.status?.conditions?.some((c) => c.type === "Announced" && c.reason === reason) ? r : undefined;
  });
}

const conditionOf = (r: HPORequest) => r.status?.conditions?.find((c) => c.type === "Announced");

/** publishedOnly waits until `probe`'s batch arrives (sent after the refusal), then nothing of `refused` may have. */
async function nothingPublished(ns: string, refused: string, probe: string): Promise<void> {
  apply(ns, probe);
  await sub.until(`${probe}'s batch`, (ms) => ms.some((m) => m.headers.hpo_name === probe));
  expect(sub.of(refused)).toEqual([]);
}

describe("destinations confined to the request's namespace", () => {
  it("the default destination is the namespace's own topic, over TLS", async () => {
    apply(teamA, "own");
    const m = await sub.until("own's batch", (ms) => ms.find((x) => x.headers.hpo_name === "own"));
    expect(m.headers.destination).toBe(`/topic/hpo.${teamA}.points`);
    expect(conditionOf(await announced(teamA, "own", "Delivered"))?.status).toBe("True");
  }, 60_000);

  it("another namespace's topic is refused, told, and never published; fixing it announces the points", async () => {
    apply(teamA, "intruder", `/topic/hpo.${teamB}.points`);
    const req = await announced(teamA, "intruder", "DestinationRefused");
    expect(conditionOf(req)).toMatchObject({ status: "False" });
    expect(conditionOf(req)?.message).toBe(
      `spec.notification.destination /topic/hpo.${teamB}.points is not allowed for namespace ${teamA}: the cluster admin allows /topic/hpo.${teamA}.* (a trailing * is any name made of letters, digits, ".", "_" and "-"); nothing is published until it is changed`,
    );
    const warning = await waitFor("the Warning event", async () =>
      (await eventsOf(teamA, "intruder")).find((e) => e.reason === "DestinationRefused"),
    );
    expect(warning).toMatchObject({ type: "Warning", message: conditionOf(req)?.message });
    await waitForPoints(teamA, "intruder", 2); // generation goes on
    await nothingPublished(teamA, "intruder", "probe-1");

    kubectlOk([
      "patch",
      "hpor",
      "intruder",
      "-n",
      teamA,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { notification: { destination: `/topic/hpo.${teamA}.fixed` } } }),
    ]);
    const m = await sub.until("intruder's batch once fixed", (ms) =>
      ms.find((x) => x.headers.hpo_name === "intruder"),
    );
    expect(m.headers.destination).toBe(`/topic/hpo.${teamA}.fixed`);
    expect((m.body.files as unknown[]).length).toBe(2);
  }, 90_000);

  it("an ActiveMQ composite destination cannot smuggle a second topic in", async () => {
    apply(teamA, "composite", `/topic/hpo.${teamA}.x,topic://hpo.${teamB}.x`);
    await announced(teamA, "composite", "DestinationRefused");
    await waitForPoints(teamA, "composite", 2);
    await nothingPublished(teamA, "composite", "probe-2");
  }, 60_000);
});

describe("workload ids allowed by the admin", () => {
  it("an allowed id is the messages' workload_id", async () => {
    apply(teamA, "wl-ok", undefined, "150");
    const m = await sub.until("wl-ok's batch", (ms) => ms.find((x) => x.headers.hpo_name === "wl-ok"));
    expect(m.body.workload_id).toBe(150);
  }, 60_000);

  it("an id out of the namespace's range, or in a namespace allowed none, is refused", async () => {
    apply(teamA, "wl-far", undefined, "4711");
    apply(teamB, "wl-b", undefined, "150");
    const far = conditionOf(await announced(teamA, "wl-far", "WorkloadIdRefused"));
    expect(far?.message).toBe(
      `annotation hpo.dev/workload-id="4711" is not allowed: the cluster admin lets namespace ${teamA} use 100-199; nothing is published until it is changed or removed`,
    );
    const b = conditionOf(await announced(teamB, "wl-b", "WorkloadIdRefused"));
    expect(b?.message).toContain(`lets namespace ${teamB} set no workload id`);
    const warning = await waitFor("the Warning event", async () =>
      (await eventsOf(teamB, "wl-b")).find((e) => e.reason === "WorkloadIdRefused"),
    );
    expect(warning.type).toBe("Warning");
    await waitForPoints(teamA, "wl-far", 2);
    await waitForPoints(teamB, "wl-b", 2);
    await nothingPublished(teamA, "wl-far", "probe-3");
    expect(sub.of("wl-b")).toEqual([]);
  }, 60_000);
});
