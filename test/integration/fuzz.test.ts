/**
 * A seeded fuzz test: 1,000 generated bad inputs against the real API server and a running operator
 * (400 HPORequests applied, 300 merge patches of a set's reports) and through the real path of a
 * generator's output (stage-out's checks, the frame, the operator's reading of it: 300 outputs).
 * Each is refused or recorded with a message that names a field and carries no stack trace; the
 * operator stays alive, healthy, and its memory bounded. The seed is printed; HPO_FUZZ_SEED repeats
 * a run. The last line is the summary: how many inputs were tried and how each ended.
 */
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { HPORequest, HyperParameterSet } from "../../src/api/index.ts";
import { compileSearchSpace } from "../../src/generators/space.ts";
import { outcomeOfLog } from "../../src/jobs/output.ts";
import { checkOutput } from "../../src/jobs/protocol.ts";
import { paths } from "../../src/runtime/client.ts";
import { ApiError } from "../../src/runtime/errors.ts";
import { checkBatch } from "../../src/validation/points.ts";
import { badOutput, badPatch, badRequest, Fuzzer, unclear } from "../support/fuzz.ts";
import { api, applyRequest, getRequest, waitFor, waitForPoints } from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const seed = Number(process.env.HPO_FUZZ_SEED ?? randomInt(2 ** 31));
const REQUESTS = 400;
const PATCHES = 300;
const OUTPUTS = 300;
/** RSS_LIMIT_MIB: well under the chart's memory limit (512Mi) for an operator holding 400 requests. */
const RSS_LIMIT_MIB = 400;

let ns = "";
let op: OperatorProcess;
let sampler: NodeJS.Timeout | undefined;
let maxRssMiB = 0;
/** outcomes counts how each input ended, per kind of input. */
const outcomes: Record<string, Record<string, number>> = { requests: {}, patches: {}, outputs: {} };
/** problems lists every input whose message was unclear, or that broke something. */
const problems: string[] = [];

const count = (kind: string, outcome: string) => {
  const k = outcomes[kind] as Record<string, number>;
  k[outcome] = (k[outcome] ?? 0) + 1;
};
const judge = (what: string, message: string | undefined, fields: readonly string[]) => {
  if (process.env.HPO_FUZZ_SHOW) process.stdout.write(`fuzz: ${what}\n  -> ${message}\n`);
  const why = unclear(message, fields);
  if (why) problems.push(`${what}: ${why}: ${message?.slice(0, 300)}`);
};

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

beforeAll(async () => {
  process.stdout.write(`fuzz: seed ${seed} (HPO_FUZZ_SEED=${seed} repeats this run)\n`);
  ns = newNamespace("fuzz");
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--log-level=info"],
  });
  const pid = op.child.pid as number;
  sampler = setInterval(() => {
    if (op.child.exitCode === null) maxRssMiB = Math.max(maxRssMiB, rssMiB(pid));
  }, 250);
}, 60_000);
afterAll(async () => {
  clearInterval(sampler);
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

/** inParallel runs fn for 0..n-1, `width` at a time. */
async function inParallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

describe(`fuzz (seed ${seed})`, () => {
  it(`${REQUESTS} bad HPORequests: refused by the API server or by the operator, in words that name a field`, async () => {
    const f = new Fuzzer(seed);
    const inputs = Array.from({ length: REQUESTS }, (_, i) => badRequest(f, ns, `f-${i}`));
    const accepted = new Map<string, string[]>();
    await inParallel(REQUESTS, 8, async (i) => {
      const { body, fields } = inputs[i] as (typeof inputs)[number];
      try {
        await api().create(paths.collection("hpo.dev/v1alpha1", "hporequests", ns), body, {
          query: { fieldValidation: "Strict" },
        });
        accepted.set(`f-${i}`, fields);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        count("requests", "refused by the API server");
        judge(
          `request f-${i} (${JSON.stringify(body.spec).slice(0, 200)})`,
          e.status?.message ?? e.message,
          fields,
        );
      }
    });
    // Every accepted request is looked at by the operator: its status describes this spec, or, when
    // the API server refuses that status, a StatusRefused Warning event says why.
    const verdicts = async () => {
      const list = await api().get<{ items: HPORequest[] }>(
        paths.collection("hpo.dev/v1alpha1", "hporequests", ns),
      );
      const events = await api().get<{
        items: { reason: string; message: string; involvedObject: { name: string } }[];
      }>(paths.collection("v1", "events", ns));
      const refusedStatus = new Map(
        events.items
          .filter((e) => e.reason === "StatusRefused")
          .map((e) => [e.involvedObject.name, e.message]),
      );
      const mine = list.items.filter((r) => accepted.has(r.metadata?.name ?? ""));
      const looked = (r: HPORequest) =>
        refusedStatus.has(r.metadata?.name ?? "") ||
        (r.status?.phase && r.status.observedGeneration === r.metadata?.generation);
      return { mine, refusedStatus, left: mine.filter((r) => !looked(r)) };
    };
    const seen = await waitFor(
      "the operator's verdict on every accepted request",
      async () => {
        const v = await verdicts();
        return v.mine.length === accepted.size && v.left.length === 0 ? v : undefined;
      },
      180_000,
      async () => `not looked at: ${JSON.stringify((await verdicts()).left.slice(0, 3).map((r) => r.spec))}`,
    );
    for (const r of seen.mine) {
      const name = r.metadata?.name ?? "";
      // The message names a field it touched, or another field of the spec by its path.
      const fields = [...(accepted.get(name) ?? []), ...Object.keys(r.spec).map((k) => `spec.${k}`)];
      const event = seen.refusedStatus.get(name);
      const invalid = r.status?.conditions?.some((c) => c.type === "SpecValid" && c.status === "False");
      if (event !== undefined) {
        count("requests", "status refused by the API server (Warning event)");
        judge(`request ${name} (${JSON.stringify(r.spec).slice(0, 200)})`, event, fields);
      } else if (invalid) {
        count("requests", "refused by the operator");
        judge(`request ${name} (${JSON.stringify(r.spec).slice(0, 200)})`, r.status?.message, fields);
      } else count("requests", "accepted");
    }
  }, 300_000);

  it(`${PATCHES} bad loss patches: refused by the API server, or recorded by the operator`, async () => {
    const f = new Fuzzer(seed + 1);
    applyRequest(ns, "target", {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 1 } },
      maxPoints: 20,
      pointsPerGeneration: 20,
    });
    await waitForPoints(ns, "target", 20, 60_000);
    const set = paths.object("hpo.dev/v1alpha1", "hyperparametersets", ns, "target-1");
    for (let i = 0; i < PATCHES; i++) {
      const { patch, fields } = badPatch(f, 20);
      try {
        await api().request("PATCH", set, {
          body: patch,
          contentType: "application/merge-patch+json",
          query: { fieldValidation: "Strict" },
        });
        count("patches", "recorded");
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        count("patches", "refused by the API server");
        judge(`patch ${JSON.stringify(patch).slice(0, 200)}`, e.status?.message ?? e.message, fields);
      }
    }
    // The operator counts exactly what the set holds.
    const final = await api().get<HyperParameterSet>(set);
    const losses = Object.keys(final.spec.losses ?? {}).length;
    const failed = Object.keys(final.spec.failed ?? {}).length;
    await waitFor(
      `the request to count ${losses} losses and ${failed} failures`,
      async () => {
        const p = (await getRequest(ns, "target"))?.status?.points;
        return p?.evaluated === losses && p.failed === failed;
      },
      60_000,
    );
  }, 240_000);

  it(`${OUTPUTS} bad generator outputs through stage-out's checks and the operator's reading of the log`, () => {
    const f = new Fuzzer(seed + 2);
    const compiled = compileSearchSpace(
      {
        x: { type: "float", low: 0, high: 1 },
        k: { type: "int", low: 1, high: 5 },
        c: { type: "categorical", choices: ["a", "b"] },
      },
      undefined,
    );
    if (!compiled.ok) throw new Error(compiled.error);
    const space = compiled.value;
    for (let i = 0; i < OUTPUTS; i++) {
      const out = badOutput(f);
      // An output's fields: its parameters, a point by number, or the output and its frame as a whole.
      const fields = [...out.fields, "point ", "output", "frame"];
      const what = `output ${JSON.stringify(out.text.slice(0, 150))}${out.damaged ? " (frame damaged)" : ""}`;
      // stage-out runs in the pod: a bad output never gets framed.
      if (f.chance(0.5)) {
        const parsed = checkOutput(out.text);
        const inSpace = parsed.ok ? checkBatch(space, parsed.points) : parsed;
        if (!inSpace.ok) {
          count("outputs", "refused by stage-out");
          judge(what, inSpace.error, fields);
          continue;
        }
      }
      const o = outcomeOfLog(out.log, { space, points: [], count: 5 }, `fuzz-gen-${i}`);
      count(
        "outputs",
        o.kind === "failed" ? "generation failed" : o.kind === "points" ? "points stored" : "no more points",
      );
      if (o.kind === "failed") judge(what, o.message, fields);
    }
  });

  it("the operator survived: alive, healthy, memory bounded; every message was clear", async () => {
    expect(op.child.exitCode).toBeNull();
    const health = await fetch(`http://127.0.0.1:${op.probePort}/healthz`);
    expect(health.status).toBe(200);
    maxRssMiB = Math.max(maxRssMiB, rssMiB(op.child.pid as number));
    const tried = Object.values(outcomes).reduce(
      (n, o) => n + Object.values(o).reduce((a, b) => a + b, 0),
      0,
    );
    const show = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
    process.stdout.write(
      `fuzz summary: seed ${seed}, ${tried} inputs tried; requests: ${show(outcomes.requests ?? {})}; loss patches: ${show(outcomes.patches ?? {})}; generator outputs: ${show(outcomes.outputs ?? {})}; operator alive, healthz ${health.status}, peak RSS ${Math.round(maxRssMiB)} MiB; unclear messages: ${problems.length}\n`,
    );
    expect(tried).toBe(REQUESTS + PATCHES + OUTPUTS);
    expect(problems).toEqual([]);
    expect(maxRssMiB).toBeLessThan(RSS_LIMIT_MIB);
    expect(op.logs()).not.toMatch(/\n\s+at \S+ \(.*:\d+:\d+\)/);
  });
});
