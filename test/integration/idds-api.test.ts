/**
 * `hpo-operator api` on the real control plane, with the real operator and the real idds-client
 * (PyPI, pinned in hack/idds-venv): a training loop through get_hyperparameters and
 * update_hyperparameter to Finished, the filters, the id mapping (iDDS ids from 0), the first loss
 * kept, and the exceptions a user sees without a token or without the right. Tokens are issued by
 * the API server's TokenRequest API (kubectl create token).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { identityOf } from "../../src/messaging/messages.ts";
import { applyRequest, getRequest, points, waitForPhase, waitForPoints } from "../support/hpo.ts";
import {
  type ApiProcess,
  type ClientOutcome,
  httpsCall,
  iddsClient,
  selfSignedCert,
  startApiProcess,
} from "../support/idds-api.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let op: OperatorProcess;
let api: ApiProcess;
let trainer = "";
let stranger = "";
const WORKLOAD = 20525134;

/** grantTrainer gives the service account "trainer" what a training job needs, and nothing more. */
function grantTrainer(namespace: string): void {
  kubectlOk([
    "create",
    "role",
    "-n",
    namespace,
    "hpo-submitter",
    "--verb=create",
    "--resource=hporequests.hpo.dev",
  ]);
  kubectlOk([
    "create",
    "rolebinding",
    "-n",
    namespace,
    "hpo-submitter",
    "--role=hpo-submitter",
    `--serviceaccount=${namespace}:trainer`,
  ]);
  kubectlOk(["create", "serviceaccount", "-n", namespace, "trainer"]);
  kubectlOk(["create", "serviceaccount", "-n", namespace, "stranger"]);
  kubectlOk([
    "create",
    "role",
    "-n",
    namespace,
    "hpo-trainer",
    "--verb=get,list,patch",
    "--resource=hyperparametersets.hpo.dev",
  ]);
  kubectlOk([
    "create",
    "rolebinding",
    "-n",
    namespace,
    "hpo-trainer",
    "--role=hpo-trainer",
    `--serviceaccount=${namespace}:trainer`,
  ]);
}

const token = (sa: string) => kubectlOk(["create", "token", "-n", ns, sa, "--duration=1h"]).trim();
const result = (o: ClientOutcome | undefined) => {
  if (!o || !("result" in o)) throw new Error(`expected a result, got ${JSON.stringify(o)}`);
  return o.result;
};

beforeAll(async () => {
  ns = newNamespace("idds-api");
  grantTrainer(ns);
  [op, api] = await Promise.all([
    startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: [`--namespaces=${ns}`] }),
    startApiProcess({ kubeconfig: inject("kubeconfig"), args: ["--auth-cache-ttl=2s"] }),
  ]);
  trainer = token("trainer");
  stranger = token("stranger");
});
afterAll(async () => {
  await api?.kill();
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

const space = { A: { type: "categorical", choices: [1, 4] }, B: { type: "float", low: 0, high: 5 } };

/** createRequest applies a request whose workload_id is WORKLOAD (as a PanDA task's would be). */
function createRequest(name: string, spec: Record<string, unknown>): void {
  applyRequest(ns, name, spec);
  kubectlOk(["annotate", "-n", ns, "hporequest", name, `hpo.dev/workload-id=${WORKLOAD}`]);
}

async function idsOf(name: string): Promise<{ workloadId: number; requestId: number }> {
  const req = await getRequest(ns, name);
  if (!req) throw new Error(`no request ${name}`);
  const id = identityOf(req);
  return { workloadId: id.workloadId, requestId: id.requestId };
}

describe("the training loop of idds-client", () => {
  it("gets points, reports every loss, and the request finishes; ids are the sets' ids (from 1)", async () => {
    createRequest("loop", {
      method: "random",
      searchSpace: space,
      maxPoints: 6,
      pointsPerGeneration: 3,
      seed: 1,
    });
    await waitForPoints(ns, "loop", 3);
    const { workloadId, requestId } = await idsOf("loop");
    const [first, loop] = await iddsClient(api.host, { token: trainer }, [
      ["get_hyperparameters", { workload_id: workloadId, request_id: requestId }],
      ["loop", { request_id: requestId, evaluated: 6 }],
    ]);
    const listed = result(first) as { id: string; parameters: Record<string, unknown>; loss: null }[];
    const ours = await points(ns, "loop");
    expect(listed.map((p) => p.id)).toEqual(["1", "2", "3"]);
    expect(listed.map((p) => p.parameters)).toEqual(ours.slice(0, 3).map((p) => p.params));
    expect(listed.every((p) => p.loss === null)).toBe(true);
    const { reported } = result(loop) as { reported: Record<string, number> };
    expect(Object.keys(reported).sort()).toEqual(["1", "2", "3", "4", "5", "6"]);
    await waitForPhase(ns, "loop", "Finished");
    // Each loss the client sent for id i is stored for point i of the sets.
    const stored = await points(ns, "loop");
    for (const p of stored) expect(p.loss).toBe(reported[p.id]);
  });

  it("filters by workload_id, request_id or both, by id, status and limit", async () => {
    createRequest("filters", {
      method: "random",
      searchSpace: space,
      maxPoints: 4,
      pointsPerGeneration: 4,
      seed: 2,
    });
    await waitForPoints(ns, "filters", 4);
    const { workloadId, requestId } = await idsOf("filters");
    const [put, byBoth, byRequest, byId, available, fresh, limited, fresh2] = await iddsClient(
      api.host,
      { token: trainer },
      [
        ["update_hyperparameter", { workload_id: workloadId, request_id: requestId, id: 1, loss: 0.5 }],
        ["get_hyperparameters", { workload_id: workloadId, request_id: requestId }],
        ["get_hyperparameters", { workload_id: null, request_id: requestId }],
        ["get_hyperparameters", { workload_id: null, request_id: requestId, id: 1 }],
        ["get_hyperparameters", { workload_id: null, request_id: requestId, status: "Available" }],
        ["get_hyperparameters", { workload_id: null, request_id: requestId, status: "New" }],
        ["get_hyperparameters", { workload_id: null, request_id: requestId, status: "New", limit: 2 }],
        ["get_hyperparameters", { workload_id: null, request_id: requestId, status: 0 }],
      ],
    );
    expect(result(put)).toEqual({ status: 0, message: "update successfully" });
    expect((result(byBoth) as unknown[]).length).toBe(4);
    expect(result(byRequest)).toEqual(result(byBoth));
    expect(result(byId)).toEqual([expect.objectContaining({ id: "1", loss: 0.5 })]);
    expect((result(available) as { id: string }[]).map((p) => p.id)).toEqual(["1"]);
    expect((result(fresh) as { id: string }[]).map((p) => p.id)).toEqual(["2", "3", "4"]);
    expect((result(limited) as { id: string }[]).map((p) => p.id)).toEqual(["2", "3"]);
    expect(result(fresh2)).toEqual(result(fresh));
    // workload_id alone names two requests now (loop and filters): the client is told to add request_id.
    const [ambiguous] = await iddsClient(api.host, { token: trainer }, [
      ["get_hyperparameters", { workload_id: workloadId, request_id: null }],
    ]);
    expect(ambiguous).toMatchObject({ exception: "BadRequest" });
    expect((ambiguous as { message: string }).message).toContain("give request_id too");
  });

  it("keeps the first loss: the same loss again succeeds, another one is refused with ConflictRequestException", async () => {
    const { requestId } = await idsOf("filters");
    const [again, other, unknown, notNumber, zero, getZero] = await iddsClient(api.host, { token: trainer }, [
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 1, loss: 0.5 }],
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 1, loss: 0.7 }],
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 99, loss: 0.7 }],
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 2, loss: "nan" }],
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 0, loss: 0.1 }],
      ["get_hyperparameters", { workload_id: null, request_id: requestId, id: 0 }],
    ]);
    expect(result(again)).toEqual({ status: 0, message: "update successfully" });
    expect(other).toMatchObject({ exception: "ConflictRequestException" });
    expect((other as { message: string }).message).toContain("point 1 already has the loss 0.5");
    expect(unknown).toMatchObject({ exception: "NoObject" });
    expect(notNumber).toMatchObject({ exception: "BadRequest" });
    // iDDS 2.6 numbers points from 1 too: there is no point 0 to report, and none to read.
    expect(zero).toMatchObject({ exception: "NoObject" });
    expect((zero as { message: string }).message).toContain("point ids start at 1");
    expect(result(getZero)).toEqual([]);
    expect((await points(ns, "filters")).find((p) => p.id === "1")?.loss).toBe(0.5);
  });
});

describe("authentication and authorisation", () => {
  it("a token without the right ends in AuthenticationNoPermission (403)", async () => {
    const { requestId } = await idsOf("filters");
    const [read, write] = await iddsClient(api.host, { token: stranger }, [
      ["get_hyperparameters", { workload_id: null, request_id: requestId }],
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 2, loss: 1 }],
    ]);
    expect(read).toMatchObject({ exception: "AuthenticationNoPermission" });
    expect((read as { message: string }).message).toContain(`system:serviceaccount:${ns}:stranger`);
    expect(write).toMatchObject({ exception: "AuthenticationNoPermission" });
    const raw = await httpsCall(api, "GET", `/idds/hpo/null/${requestId}/null/null/null`, {
      Authorization: `Bearer ${stranger}`,
    });
    expect(raw.status).toBe(403);
    expect(raw.headers.exceptionclass).toBe("AuthenticationNoPermission");
  });

  it("no token (an X.509 proxy) and a refused token end in an IDDSException (401) that says what to do", async () => {
    const tls = selfSignedCert();
    const proxy = `${tls.certFile}.proxy`;
    writeFileSync(proxy, readFileSync(tls.certFile, "utf8") + readFileSync(tls.keyFile, "utf8"));
    const { requestId } = await idsOf("filters");
    const [x509] = await iddsClient(api.host, { proxy }, [
      ["get_hyperparameters", { workload_id: null, request_id: requestId }],
    ]);
    expect(x509).toMatchObject({ exception: "IDDSException" });
    expect((x509 as { message: string }).message).toContain("X.509 proxies are not supported");
    const [bad] = await iddsClient(api.host, { token: "not-a-token" }, [
      ["get_hyperparameters", { workload_id: null, request_id: requestId }],
    ]);
    expect(bad).toMatchObject({ exception: "IDDSException" });
    expect((bad as { message: string }).message).toContain("refused by the Kubernetes API server");
    const raw = await httpsCall(api, "GET", `/idds/hpo/null/${requestId}/null/null/null`);
    expect(raw.status).toBe(401);
    expect(raw.headers.exceptionclass).toBe("IDDSException");
    expect(raw.body).toBe("");
  });
});

describe("the wire format", () => {
  it("answers json_outputs=true with iDDS's envelope, and errors in it too", async () => {
    const { requestId } = await idsOf("filters");
    const auth = { Authorization: `Bearer ${trainer}` };
    const ok = await httpsCall(api, "GET", `/idds/hpo/null/${requestId}/2/null/null?json_outputs=true`, auth);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({
      data: [expect.objectContaining({ id: "2", loss: null })],
      error: null,
      status: 0,
    });
    const missing = await httpsCall(api, "GET", "/idds/hpo/null/1/null/null/null?json_outputs=true", auth);
    expect(missing.status).toBe(200);
    const body = JSON.parse(missing.body);
    expect(body).toMatchObject({ data: null, status: 404, error: { ExceptionClass: "NoObject" } });
    expect(JSON.parse(body.error.ExceptionMessage).msg).toContain("no HPORequest has request_id 1");
    const plain = await httpsCall(api, "GET", "/idds/hpo/null/1/null/null/null", auth);
    expect(plain.status).toBe(404);
    expect(plain.headers.exceptionclass).toBe("NoObject");
    expect(JSON.parse(String(plain.headers.exceptionmessage)).msg).toContain(
      "no HPORequest has request_id 1",
    );
    const wrong = await httpsCall(api, "DELETE", "/idds/hpo/null/1/null/null/null", auth);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.exceptionclass).toBe("IDDSException");
  });
});

describe("add_request and get_requests", () => {
  const metadata = {
    workload_id: "30000001",
    sandbox: null,
    method: "bayesian",
    opt_space: { A: [1, 4], B: [1, 10] },
    initial_points: [
      [{ A: 1, B: 2 }, 0.3],
      [{ A: 1, B: 3 }, null],
    ],
    max_points: 8,
    num_points_per_generation: 3,
  };
  const props = {
    requester: "panda",
    request_type: "HyperParameterOpt",
    status: "New",
    request_metadata: metadata,
  };

  it("creates an HPORequest in the caller's namespace, and the loop runs it to Finished", async () => {
    const [added] = await iddsClient(api.host, { token: trainer }, [["add_request", props]]);
    const requestId = result(added) as number;
    const req = await getRequest(ns, "hpo-30000001");
    expect(req && identityOf(req)).toMatchObject({ requestId, workloadId: 30000001 });
    const [loop] = await iddsClient(api.host, { token: trainer }, [
      ["loop", { request_id: requestId, evaluated: 8 }],
    ]);
    const { reported } = result(loop) as { reported: Record<string, number> };
    // The initial point given with its loss is evaluated already: the loop reports the other 7.
    expect(Object.keys(reported).sort((a, b) => Number(a) - Number(b))).toEqual([
      "2",
      "3",
      "4",
      "5",
      "6",
      "7",
      "8",
    ]);
    await waitForPhase(ns, "hpo-30000001", "Finished");
    const [rows, byWorkload] = await iddsClient(api.host, { token: trainer }, [
      ["get_requests", { request_id: requestId }],
      ["get_requests", { workload_id: 30000001 }],
    ]);
    const row = (result(rows) as Record<string, unknown>[])[0];
    expect(row).toMatchObject({
      request_id: requestId,
      workload_id: 30000001,
      status: { class: "RequestStatus", attributes: { _name_: "Finished" } },
    });
    expect(result(byWorkload)).toEqual(result(rows));
  });

  it("a second add_request of the same workload is DuplicatedObject; an untranslatable one names the field", async () => {
    const bad = { ...props, request_metadata: { ...metadata, workload_id: "30000002", max_points: -1 } };
    const [again, wrong, none] = await iddsClient(api.host, { token: trainer }, [
      ["add_request", props],
      ["add_request", bad],
      ["get_requests", { request_id: 1 }],
    ]);
    expect(again).toMatchObject({ exception: "DuplicatedObject" });
    expect(wrong).toMatchObject({ exception: "BadRequest" });
    expect((wrong as { message: string }).message).toContain("request_metadata.max_points");
    expect(result(none)).toEqual([]);
  });

  it("without create on hporequests add_request is AuthenticationNoPermission", async () => {
    const [refused] = await iddsClient(api.host, { token: stranger }, [
      ["add_request", { ...props, request_metadata: { ...metadata, workload_id: "30000003" } }],
    ]);
    expect(refused).toMatchObject({ exception: "AuthenticationNoPermission" });
    expect((refused as { message: string }).message).toContain("create hporequests");
  });
});

describe("two replicas", () => {
  it("a loss sent to one and a different loss sent to the other for each point: one stands, the other is refused", async () => {
    const api2 = await startApiProcess({ kubeconfig: inject("kubeconfig") });
    try {
      applyRequest(ns, "race", {
        method: "random",
        searchSpace: space,
        maxPoints: 20,
        pointsPerGeneration: 20,
        seed: 3,
      });
      await waitForPoints(ns, "race", 20);
      const { requestId } = await idsOf("race");
      const auth = { Authorization: `Bearer ${trainer}` };
      const put = (server: ApiProcess, id: number, loss: number) =>
        httpsCall(server, "PUT", `/idds/hpo/null/${requestId}/${id}/${loss}`, auth).then((r) => ({
          id,
          loss,
          r,
        }));
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      const answers = await Promise.all(
        ids.flatMap((id) => [put(api, id, id / 100), put(api2, id, id / 100 + 1)]),
      );
      const stored = new Map((await points(ns, "race")).map((p) => [Number(p.id), p.loss]));
      for (const id of ids) {
        const mine = answers.filter((a) => a.id === id);
        const ok = mine.filter((a) => a.r.status === 200);
        const refused = mine.filter((a) => a.r.status === 409);
        expect(ok, `point ${id}`).toHaveLength(1);
        expect(refused, `point ${id}`).toHaveLength(1);
        expect(refused[0]?.r.headers.exceptionclass).toBe("ConflictRequestException");
        expect(stored.get(id), `point ${id}`).toBe(ok[0]?.loss);
      }
    } finally {
      await api2.kill();
    }
  });
});
