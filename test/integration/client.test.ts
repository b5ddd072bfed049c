/**
 * The typed client (hpo-operator/client) against the real control plane and the real operator:
 * the iDDS calls a training loop makes, the errors a person reads, the current context's namespace
 * as kubectl uses it, and watching a request to its end.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  failHyperParameter,
  getHyperParameters,
  getStatus,
  HpoClient,
  InvalidArgumentError,
  OutcomeConflictError,
  RequestDeletedError,
  RequestNotFoundError,
  type RequestSummary,
  UnknownPointError,
  updateHyperParameter,
  watchRequest,
} from "hpo-operator/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { applyRequest, getSet, waitFor, waitForPhase, waitForPoints } from "../support/hpo.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let op: OperatorProcess;
let hpo: HpoClient;
let nsKubeconfig = "";
const savedKubeconfig = process.env.KUBECONFIG;

/** withNamespace writes a copy of the test kubeconfig whose current context has namespace ns. */
function withNamespace(namespace: string): string {
  const kc = parse(readFileSync(inject("kubeconfig"), "utf8")) as {
    contexts: { name: string; context: Record<string, string> }[];
  };
  for (const c of kc.contexts) c.context.namespace = namespace;
  const file = join(mkdtempSync(join(tmpdir(), "hpo-client-")), "kubeconfig");
  writeFileSync(file, stringify(kc));
  return file;
}

beforeAll(async () => {
  ns = newNamespace("client");
  op = await startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: [`--namespaces=${ns}`] });
  nsKubeconfig = withNamespace(ns);
  hpo = new HpoClient({ kubeconfig: nsKubeconfig });
  process.env.KUBECONFIG = nsKubeconfig; // for the plain functions (the default client)
});
afterAll(async () => {
  hpo?.close();
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

const space = {
  lr: { type: "float", low: 1e-4, high: 0.1, log: true },
  layers: { type: "int", low: 1, high: 4 },
};
const loss = (p: { params: Record<string, unknown> }) =>
  Math.abs(Math.log10(p.params.lr as number) + 2) + (p.params.layers as number) / 10;

describe("the iDDS calls", () => {
  it("use the current context's namespace, list points by status and limit, and report losses", async () => {
    expect(hpo.namespace).toBe(ns);
    applyRequest(ns, "idds", { method: "random", searchSpace: space, maxPoints: 6, pointsPerGeneration: 3 });
    await waitForPoints(ns, "idds", 3);
    const fresh = await hpo.getHyperParameters("idds", { status: "new" });
    expect(fresh.map((p) => p.id)).toEqual(["1", "2", "3"]);
    expect((await hpo.getHyperParameters("idds", { status: "new", limit: 2 })).map((p) => p.id)).toEqual([
      "1",
      "2",
    ]);
    expect(await hpo.getHyperParameters("idds", { status: "evaluated" })).toEqual([]);

    // A training loop: take the new points, report each loss (ids as strings or numbers).
    expect(await hpo.updateHyperParameter("idds", "1", loss(fresh[0] as never))).toMatchObject({
      namespace: ns,
      request: "idds",
      id: "1",
      changed: true,
    });
    await hpo.updateHyperParameter("idds", 2, loss(fresh[1] as never));
    await hpo.failHyperParameter({ name: "idds", namespace: ns }, 3, "OOMKilled");
    const set = await getSet(ns, "idds-1");
    expect(set?.spec.losses).toEqual({ "1": loss(fresh[0] as never), "2": loss(fresh[1] as never) });
    expect(set?.spec.failed).toEqual({ "3": "OOMKilled" });

    // The operator records them and, the threshold crossed, generates the rest.
    await waitForPoints(ns, "idds", 6);
    const evaluated = await hpo.getHyperParameters("idds", { status: "evaluated" });
    expect(evaluated.map((p) => [p.id, p.loss])).toEqual([
      ["1", loss(fresh[0] as never)],
      ["2", loss(fresh[1] as never)],
    ]);
    expect((await hpo.getHyperParameters("idds", { status: "failed" }))[0]).toMatchObject({
      id: "3",
      state: "Failed",
      reason: "OOMKilled",
    });
  });

  it("reports concurrently without losing one (each report is its own merge patch)", async () => {
    const rest = await hpo.getHyperParameters("idds", { status: "new" });
    expect(rest.map((p) => p.id)).toEqual(["4", "5", "6"]);
    await Promise.all(rest.map((p) => hpo.updateHyperParameter("idds", p.id, loss(p))));
    const done = await waitForPhase(ns, "idds", "SubFinished");
    expect(done.status?.points).toEqual({ total: 6, evaluated: 5, unevaluated: 0, failed: 1 });
  });

  it("report the same loss twice harmlessly, and refuse what the operator would ignore", async () => {
    const [p1] = await hpo.getHyperParameters("idds", { limit: 1 });
    const again = await hpo.updateHyperParameter("idds", "1", p1?.loss as number);
    expect(again.changed).toBe(false);
    await expect(hpo.updateHyperParameter("idds", "1", 0.123)).rejects.toThrow(
      new OutcomeConflictError(
        `point 1 of "idds" already has the loss ${p1?.loss}; the first reported loss stands`,
        "1",
      ),
    );
    await expect(hpo.updateHyperParameter("idds", "3", 0.5)).rejects.toThrow(
      'point 3 of "idds" was reported failed (OOMKilled); it takes no loss',
    );
    await expect(hpo.failHyperParameter("idds", "2", "NaN loss")).rejects.toBeInstanceOf(
      OutcomeConflictError,
    );
    expect((await hpo.failHyperParameter("idds", "3", "OOMKilled")).changed).toBe(false);
  });

  it("refuse an unknown id, a loss that is not a finite number, and an unknown request, clearly", async () => {
    const unknown = hpo.updateHyperParameter("idds", "99", 0.5);
    await expect(unknown).rejects.toBeInstanceOf(UnknownPointError);
    await expect(unknown).rejects.toThrow(
      'HPORequest "idds" has no point 99: ids handed out so far run up to 6',
    );
    await expect(hpo.updateHyperParameter("idds", "seven", 0.5)).rejects.toThrow(
      'point id "seven" is not a point id: ids are digits, such as "7" (see status.points[].id)',
    );
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, "0.12" as unknown as number]) {
      await expect(hpo.updateHyperParameter("idds", "1", bad)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(hpo.updateHyperParameter("idds", "1", Number.NaN)).rejects.toThrow(
      "the loss must be a finite number, not NaN",
    );
    await expect(hpo.getHyperParameters("nope")).rejects.toThrow(
      new RequestNotFoundError(ns, "nope").message,
    );
    await expect(hpo.updateHyperParameter("nope", "1", 0.1)).rejects.toBeInstanceOf(RequestNotFoundError);
    // A request the operator has not served yet: no points, and a report says so.
    applyRequest(ns, "later", { method: "random", searchSpace: space, suspend: true });
    await waitForPhase(ns, "later", "Suspended");
    expect(await hpo.getHyperParameters("later")).toEqual([]);
    await expect(hpo.updateHyperParameter("later", "1", 0.1)).rejects.toThrow(
      'HPORequest "later" has no point 1: it has no points yet',
    );
  });

  it("work as plain functions on KUBECONFIG's current context, as kubectl does", async () => {
    const status = await getStatus("idds");
    expect(status).toMatchObject({ namespace: ns, name: "idds", phase: "SubFinished", ended: true });
    expect(await getHyperParameters("idds", { status: "failed" })).toHaveLength(1);
    await expect(updateHyperParameter("idds", 4, 1)).rejects.toBeInstanceOf(OutcomeConflictError);
    await expect(failHyperParameter("idds", 77, "x")).rejects.toBeInstanceOf(UnknownPointError);
  });
});

describe("getStatus and watchRequest", () => {
  it("getStatus gives the phase, counts, best point and the best-so-far curve", async () => {
    const s = await hpo.getStatus("idds");
    const all = await hpo.getHyperParameters("idds", { status: "evaluated" });
    const best = [...all].sort((a, b) => (a.loss as number) - (b.loss as number))[0];
    expect(s.best).toMatchObject({ id: best?.id, loss: best?.loss });
    expect(s.points).toEqual({ total: 6, evaluated: 5, unevaluated: 0, failed: 1 });
    expect(s.convergence).toHaveLength(5);
    expect(s.convergence.at(-1)).toBe(best?.loss);
    for (let i = 1; i < s.convergence.length; i++) {
      expect(s.convergence[i]).toBeLessThanOrEqual(s.convergence[i - 1] as number);
    }
    expect(s.conditions.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      reason: "SubFinished",
    });
  });

  it("watchRequest follows a request to its end while a fleet reports", async () => {
    applyRequest(ns, "watched", { method: "tpe", searchSpace: space, maxPoints: 8, pointsPerGeneration: 2 });
    const seen: RequestSummary[] = [];
    const watching = hpo.watchRequest("watched", (s) => {
      seen.push(s);
    });
    // The fleet: the client's own calls, as a training loop would make them.
    let stop = false;
    const fleet = (async () => {
      while (!stop) {
        const fresh = await hpo.getHyperParameters("watched", { status: "new", limit: 1 }).catch(() => []);
        for (const p of fresh) await hpo.updateHyperParameter("watched", p.id, loss(p));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const last = await watching;
    stop = true;
    await fleet;
    expect(last).toMatchObject({ phase: "Finished", ended: true, observed: true });
    expect(last.points).toEqual({ total: 8, evaluated: 8, unevaluated: 0, failed: 0 });
    expect(seen.at(-1)).toEqual(last);
    const evaluated = seen.map((s) => s.points.evaluated);
    expect(evaluated).toEqual([...evaluated].sort((a, b) => a - b));
    expect(new Set(evaluated).size).toBeGreaterThan(3); // it saw the progress, not only the end
  });

  it("watchRequest ends at once for an ended request, and a raised maxPoints is not an end until seen", async () => {
    const calls: RequestSummary[] = [];
    const last = await hpo.watchRequest("watched", (s) => {
      calls.push(s);
    });
    expect(calls).toHaveLength(1);
    expect(last.phase).toBe("Finished");
    kubectlOk(["patch", "-n", ns, "hpor", "watched", "--type", "merge", "-p", '{"spec":{"maxPoints":10}}']);
    const resumed: RequestSummary[] = [];
    const stop = new AbortController();
    const watching = hpo.watchRequest("watched", (s) => void resumed.push(s), { signal: stop.signal });
    await waitFor("the operator to resume the request", async () =>
      resumed.some((s) => s.phase === "Waiting"),
    );
    expect(resumed.every((s) => !s.ended)).toBe(true);
    stop.abort(new Error("enough"));
    await expect(watching).rejects.toThrow("enough");
  });

  it("watchRequest rejects when the request is deleted, and at once when it does not exist", async () => {
    const watching = hpo.watchRequest("later", () => {});
    await new Promise((r) => setTimeout(r, 300));
    kubectlOk(["delete", "-n", ns, "hpor", "later"]);
    await expect(watching).rejects.toBeInstanceOf(RequestDeletedError);
    await expect(watchRequest({ name: "nope", namespace: ns }, () => {})).rejects.toBeInstanceOf(
      RequestNotFoundError,
    );
  });
});
