/**
 * The test kubelet on the real control plane, with the real kube-controller-manager and the real
 * kubectl: pods run as local processes (init containers in order), Jobs end Complete or Failed
 * through the real Job controller, deadlines and deletions kill processes, volumes and images
 * behave, and `kubectl logs` reaches the kubelet through the API server.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KubeClient, loadKubeConfig, paths } from "../../src/runtime/client.ts";
import { repoRoot } from "../support/controlplane.ts";
import { waitFor } from "../support/hpo.ts";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import type { Container, Pod } from "../support/kubelet-types.ts";

const fixtures = join(repoRoot, "test/fixtures/kubelet");
let ns = "";
let kubelet: Kubelet;
let client: KubeClient;
const kubeletLog: string[] = [];

beforeAll(async () => {
  ns = newNamespace("kubelet");
  client = new KubeClient(loadKubeConfig(inject("kubeconfig")));
  // Pods that mount a service account token need the namespace's default ServiceAccount.
  await waitFor("the default ServiceAccount", () =>
    client.get(paths.object("v1", "serviceaccounts", ns, "default")).then(() => true),
  );
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns],
    backoffMs: 500,
    images: {
      "box:test": { entrypoint: [process.execPath, join(fixtures, "box.ts")] },
      "shell:test": { entrypoint: ["/bin/sh", "-c"], pathMap: { "/opt/box": fixtures } },
    },
    log: (l) => kubeletLog.push(l),
  });
});
afterAll(async () => {
  await kubelet?.stop();
  client?.close();
  deleteNamespace(ns);
});

function box(name: string, ops: string[], extra: Partial<Container> = {}): Container {
  return { name, image: "box:test", args: ops, ...extra };
}

function podSpec(name: string, spec: Record<string, unknown>) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec };
}

function jobSpec(name: string, jobSpec: Record<string, unknown>, pod: Record<string, unknown>) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: ns },
    spec: {
      backoffLimit: 0,
      ...jobSpec,
      template: { spec: { restartPolicy: "Never", automountServiceAccountToken: false, ...pod } },
    },
  };
}

function apply(obj: unknown): void {
  kubectlOk(["apply", "-f", "-"], JSON.stringify(obj));
}

const getPod = (name: string) => client.get<Pod>(paths.object("v1", "pods", ns, name));

function describePod(name: string): () => Promise<string> {
  return async () => {
    const pod = await getPod(name).catch((e) => String(e));
    return `${JSON.stringify(pod, null, 1)}\nkubelet log:\n${kubeletLog.slice(-20).join("\n")}`;
  };
}

function waitForPhase(name: string, phases: string[], timeoutMs = 30_000): Promise<Pod> {
  return waitFor(
    `pod ${name} in ${phases.join("/")}`,
    async () => {
      const p = await getPod(name);
      return phases.includes(p.status?.phase ?? "") ? p : undefined;
    },
    timeoutMs,
    describePod(name),
  );
}

interface JobCondition {
  type: string;
  status: string;
  reason?: string;
}
interface Job {
  status?: { conditions?: JobCondition[]; succeeded?: number; failed?: number };
}

function waitForJob(name: string, type: "Complete" | "Failed", timeoutMs = 45_000): Promise<JobCondition> {
  return waitFor(
    `job ${name} ${type}`,
    async () => {
      const job = await client.get<Job>(paths.object("batch/v1", "jobs", ns, name));
      return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
    },
    timeoutMs,
    async () => JSON.stringify(await client.get(paths.object("batch/v1", "jobs", ns, name))),
  );
}

async function jobPod(job: string): Promise<Pod> {
  return waitFor(`a pod of job ${job}`, async () => {
    const list = await client.get<{ items: Pod[] }>(paths.collection("v1", "pods", ns), {
      query: { labelSelector: `job-name=${job}` },
    });
    return list.items[0];
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function apiLog(pod: string, container: string, query: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const line of client.lines(paths.object("v1", "pods", ns, pod, "log"), {
    query: { container, ...query },
  }))
    out.push(line);
  return out;
}

describe("the test kubelet", () => {
  it("registers a Ready node without taints, with its address and kubelet port", async () => {
    const node = JSON.parse(kubectlOk(["get", "node", kubelet.nodeName, "-o", "json"]));
    expect(node.spec.taints ?? []).toEqual([]);
    expect(node.status.addresses).toEqual([{ type: "InternalIP", address: "127.0.0.1" }]);
    expect(node.status.daemonEndpoints.kubeletEndpoint.Port).toBe(kubelet.port);
    expect(node.status.allocatable).toMatchObject({ pods: "110" });
    const ready = node.status.conditions.find((c: JobCondition) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "True", reason: "KubeletReady" });
    const lease = kubectlOk(["get", "lease", "-n", "kube-node-lease", kubelet.nodeName, "-o", "json"]);
    expect(JSON.parse(lease).spec.holderIdentity).toBe(kubelet.nodeName);
  });

  it("runs init containers in order, then the container, and serves each one's log", async () => {
    apply(
      podSpec("ordered", {
        restartPolicy: "Never",
        volumes: [{ name: "scratch", emptyDir: {} }],
        initContainers: [
          box("first", ["write:/scratch/one=1", "echo:first done"]),
          box("second", [
            "check:/scratch/one=1",
            "write:/scratch/two=2",
            "echo:second done",
            "warn:to stderr",
          ]),
        ].map((c) => ({ ...c, volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] })),
        containers: [
          box(
            "main",
            [
              "check:/scratch/one=1",
              "check:/scratch/two=2",
              "cat:/var/run/secrets/kubernetes.io/serviceaccount/namespace",
              "echo:",
              "echo:main done",
            ],
            {
              volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
            },
          ),
        ],
      }),
    );
    const pod = await waitForPhase("ordered", ["Succeeded", "Failed"]);
    expect(pod.status?.phase).toBe("Succeeded");
    expect(pod.spec.nodeName).toBe(kubelet.nodeName);
    expect(pod.status).toMatchObject({ hostIP: "127.0.0.1", podIP: "127.0.0.1" });
    expect(pod.status?.startTime).toBeTruthy();
    const conditions = Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({ PodScheduled: "True", Initialized: "True", Ready: "False" });
    const [first, second] = pod.status?.initContainerStatuses ?? [];
    const main = pod.status?.containerStatuses?.[0];
    for (const s of [first, second, main])
      expect(s?.state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    const t = (iso: string | undefined) => Date.parse(iso ?? "");
    expect(t(first?.state.terminated?.finishedAt)).toBeLessThanOrEqual(
      t(second?.state.terminated?.startedAt),
    );
    expect(t(second?.state.terminated?.finishedAt)).toBeLessThanOrEqual(t(main?.state.terminated?.startedAt));

    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "first"])).toBe("first done\n");
    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "second"])).toMatch(
      /^ok \S+\nsecond done\nto stderr\n$/,
    );
    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "main"])).toMatch(
      /^ok \S+\nok \S+\n\S+\nmain done\n$/,
    );
    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "main"])).toContain(`\n${ns}\nmain done`);
    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "main", "--tail=1"])).toBe("main done\n");
    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "second", "--limit-bytes=3"])).toBe("ok ");
    expect(kubectlOk(["logs", "-n", ns, "ordered", "-c", "main", "--tail=1", "--timestamps"])).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z main done\n$/,
    );
    // The operator's way: the pods/log subresource through the API server.
    expect(await apiLog("ordered", "second")).toEqual([
      expect.stringMatching(/^ok /),
      "second done",
      "to stderr",
    ]);
  });

  it("follows a running container's log until the container ends", async () => {
    apply(
      podSpec("follow", {
        restartPolicy: "Never",
        containers: [box("talk", ["echo:a", "sleep:1.5", "echo:b"])],
      }),
    );
    await waitForPhase("follow", ["Running", "Succeeded"]);
    const child = spawn(inject("kubectl"), [
      "--kubeconfig",
      inject("kubeconfig"),
      "logs",
      "-f",
      "-n",
      ns,
      "follow",
    ]);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((res) => child.on("close", res));
    expect(code).toBe(0);
    expect(out).toBe("a\nb\n");
  });

  it("translates mount paths and the image's paths in command, args, env and workingDir", async () => {
    apply(
      podSpec("paths", {
        restartPolicy: "Never",
        volumes: [{ name: "scratch", emptyDir: {} }],
        containers: [
          {
            name: "sh",
            image: "shell:test",
            args: [
              'node /opt/box/box.ts pwd env:POD env:NS env:WHERE "echo:$(GREETING) from $(POD)" check:/scratch/sub/x=y',
            ],
            workingDir: "/scratch/sub",
            env: [
              { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "GREETING", value: "hello" },
              { name: "WHERE", value: "/scratch/$(POD)" },
            ],
            volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
          },
        ],
        initContainers: [
          box("prepare", ["write:/scratch/sub/x=y"], {
            volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
          }),
        ],
      }),
    );
    const pod = await waitForPhase("paths", ["Succeeded", "Failed"]);
    const log = kubectlOk(["logs", "-n", ns, "paths", "-c", "sh"]).split("\n");
    expect(pod.status?.phase, log.join("\n")).toBe("Succeeded");
    const volume = join(kubelet.workRoot, "pods", `${ns}_paths_${pod.metadata.uid}`, "volumes", "scratch");
    expect(log).toEqual([
      join(volume, "sub"),
      "POD=paths",
      `NS=${ns}`,
      `WHERE=${volume}/paths`,
      "hello from paths",
      `ok ${volume}/sub/x`,
      "",
    ]);
  });

  it("mounts configMap and secret volumes with data and gzip binaryData, items and modes", async () => {
    const points = JSON.stringify({ points: [[{ x: 1 }, 0.5]] });
    apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "input", namespace: ns },
      data: { "config.json": '{"a":1}', mode: "fast" },
      binaryData: { "idds_input.json.gz": gzipSync(points).toString("base64") },
    });
    apply({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: ns },
      data: { token: Buffer.from("s3cret").toString("base64") },
    });
    apply(
      podSpec("configmap", {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        volumes: [
          { name: "all", configMap: { name: "input" } },
          {
            name: "some",
            configMap: {
              name: "input",
              items: [{ key: "config.json", path: "nested/renamed.json", mode: 0o440 }],
            },
          },
          { name: "creds", secret: { secretName: "creds", defaultMode: 0o400 } },
        ],
        containers: [
          box(
            "read",
            [
              'check:/etc/all/config.json={"a":1}',
              "gunzip:/etc/all/idds_input.json.gz",
              "echo:",
              "cat:/etc/some/nested/renamed.json",
              "echo:",
              "mode:/etc/some/nested/renamed.json",
              "mode:/etc/all/config.json",
              "env:MODE",
              "env:CM_mode",
              "check:/var/creds/token=s3cret",
              "mode:/var/creds/token",
              "env:TOKEN",
            ],
            {
              env: [
                { name: "MODE", valueFrom: { configMapKeyRef: { name: "input", key: "mode" } } },
                { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
              ],
              envFrom: [{ prefix: "CM_", configMapRef: { name: "input" } }],
              volumeMounts: [
                { name: "all", mountPath: "/etc/all", readOnly: true },
                { name: "some", mountPath: "/etc/some", readOnly: true },
                { name: "creds", mountPath: "/var/creds", readOnly: true },
              ],
            },
          ),
        ],
      }),
    );
    const pod = await waitForPhase("configmap", ["Succeeded", "Failed"]);
    const log = kubectlOk(["logs", "-n", ns, "configmap"]);
    expect(pod.status?.phase, log).toBe("Succeeded");
    expect(log.split("\n").slice(1)).toEqual([
      points,
      '{"a":1}',
      "440",
      "644",
      "MODE=fast",
      "CM_mode=fast",
      expect.stringMatching(/^ok \S+\/token$/),
      "400",
      "TOKEN=s3cret",
      "",
    ]);
  });

  it("reports an unknown image as ErrImagePull, then ImagePullBackOff", async () => {
    apply(
      podSpec("noimage", {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        containers: [{ name: "c", image: "registry.example/nothing:1" }],
      }),
    );
    const waiting = (reason: string) =>
      waitFor(`waiting reason ${reason}`, async () => {
        const w = (await getPod("noimage")).status?.containerStatuses?.[0]?.state.waiting;
        return w?.reason === reason ? w : undefined;
      });
    const pull = await waiting("ErrImagePull");
    expect(pull.message).toContain('"registry.example/nothing:1"');
    await waiting("ImagePullBackOff");
    expect((await getPod("noimage")).status?.phase).toBe("Pending");
    const r = kubectl(["logs", "-n", ns, "noimage"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/waiting to start: (image can't be pulled|trying and failing to pull image)/);
  });

  it("kills a deleted pod's processes, then deletes it with grace period 0", async () => {
    apply(
      podSpec("deleted", {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        containers: [box("c", ["sleep:forever"])],
      }),
    );
    await waitForPhase("deleted", ["Running"]);
    const proc = (await kubelet.processes()).find((p) => p.pod === "deleted");
    expect(proc && alive(proc.pid)).toBe(true);
    const started = Date.now();
    // kubectl waits until the object is gone: the kubelet must stop the pod and delete it.
    kubectlOk(["delete", "pod", "-n", ns, "deleted", "--timeout=20s"]);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(alive(proc?.pid ?? 0)).toBe(false);
    expect(kubectl(["get", "pod", "-n", ns, "deleted"]).stderr).toContain("NotFound");
  });

  it("restarts a failed container under restartPolicy OnFailure and keeps the previous run's log", async () => {
    apply(
      podSpec("restarts", {
        restartPolicy: "OnFailure",
        automountServiceAccountToken: false,
        volumes: [{ name: "state", emptyDir: {} }],
        containers: [
          box("c", ["once:/state/flag", "echo:second run"], {
            volumeMounts: [{ name: "state", mountPath: "/state" }],
          }),
        ],
      }),
    );
    const pod = await waitForPhase("restarts", ["Succeeded", "Failed"]);
    expect(pod.status?.phase).toBe("Succeeded");
    const s = pod.status?.containerStatuses?.[0];
    expect(s?.restartCount).toBe(1);
    expect(s?.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect(kubectlOk(["logs", "-n", ns, "restarts", "--previous"])).toBe("failing once\n");
    expect(kubectlOk(["logs", "-n", ns, "restarts"])).toBe("second run\n");
  });

  it("fails a pod past its own activeDeadlineSeconds with reason DeadlineExceeded", async () => {
    apply(
      podSpec("deadline", {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        activeDeadlineSeconds: 2,
        containers: [box("c", ["sleep:forever"])],
      }),
    );
    const pod = await waitForPhase("deadline", ["Failed", "Succeeded"]);
    expect(pod.status).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded" });
    // SIGTERM ended it: 128 + 15.
    expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({
      exitCode: 143,
      reason: "Error",
    });
  });
});

describe("Jobs on the test kubelet", () => {
  it("marks a Job whose container exits 0 Complete", async () => {
    apply(jobSpec("ok", {}, { containers: [box("work", ["echo:working", "exit:0"])] }));
    await waitForJob("ok", "Complete");
    const pod = await jobPod("ok");
    expect(pod.status?.phase).toBe("Succeeded");
    expect(kubectlOk(["logs", "-n", ns, "job/ok"])).toBe("working\n");
  });

  it("marks a Job whose container exits 3 Failed, with exit code 3 and reason Error on the pod", async () => {
    apply(
      jobSpec(
        "fails",
        {},
        {
          containers: [
            box("work", ["warn:boom", "exit:3"], { terminationMessagePolicy: "FallbackToLogsOnError" }),
          ],
        },
      ),
    );
    const cond = await waitForJob("fails", "Failed");
    expect(cond.reason).toBe("BackoffLimitExceeded");
    const pod = await jobPod("fails");
    expect(pod.status?.phase).toBe("Failed");
    expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({
      exitCode: 3,
      reason: "Error",
      message: "boom\n",
    });
  });

  it("fails a Job past activeDeadlineSeconds with DeadlineExceeded and kills its process", async () => {
    apply(jobSpec("slow", { activeDeadlineSeconds: 3 }, { containers: [box("work", ["sleep:forever"])] }));
    const pod = await jobPod("slow");
    const proc = await waitFor("the slow process", async () =>
      (await kubelet.processes()).find((p) => p.pod === pod.metadata.name),
    );
    expect(alive(proc.pid)).toBe(true);
    const cond = await waitForJob("slow", "Failed");
    expect(cond.reason).toBe("DeadlineExceeded");
    await waitFor("the slow process to end", async () => !alive(proc.pid), 10_000);
    expect((await kubelet.processes()).filter((p) => p.pod === pod.metadata.name)).toEqual([]);
  });

  it("deletes a Job's pods with it (garbage collector) and kills their processes", async () => {
    apply(
      jobSpec(
        "doomed",
        { parallelism: 2, completions: 2 },
        {
          terminationGracePeriodSeconds: 1,
          // The process ignores SIGTERM: the kubelet must SIGKILL it after the grace period.
          containers: [box("work", ["ignore-term", "sleep:forever"])],
        },
      ),
    );
    const procs = await waitFor("two running processes", async () => {
      const ps = (await kubelet.processes()).filter((p) => p.pod.startsWith("doomed-"));
      return ps.length === 2 ? ps : undefined;
    });
    kubectlOk(["delete", "job", "-n", ns, "doomed", "--cascade=foreground", "--wait=false"]);
    await waitFor(
      "the Job's pods to be gone",
      async () => {
        const list = await client.get<{ items: Pod[] }>(paths.collection("v1", "pods", ns), {
          query: { labelSelector: "job-name=doomed" },
        });
        return list.items.length === 0;
      },
      45_000,
    );
    for (const p of procs) expect(alive(p.pid)).toBe(false);
    await waitFor("the Job to be gone", async () =>
      client.get(paths.object("batch/v1", "jobs", ns, "doomed")).then(
        () => false,
        () => true,
      ),
    );
  });
});

describe("stopping the test kubelet", () => {
  const boxImage = { "box:test": { entrypoint: [process.execPath, join(fixtures, "box.ts")] } };
  const sleeper = (namespace: string, nodeName: string, extra: string[] = []) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "sleeper", namespace },
    spec: {
      nodeName,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: [box("c", [...extra, "sleep:forever"])],
    },
  });

  it("stop() kills running containers, deletes the Node and ends the kubelet process", async () => {
    const other = newNamespace("kubelet-stop");
    const k = await startKubelet({ kubeconfig: inject("kubeconfig"), namespaces: [other], images: boxImage });
    try {
      apply(sleeper(other, k.nodeName));
      const proc = await waitFor("the sleeper process", async () => (await k.processes())[0]);
      await k.stop();
      expect(alive(proc.pid)).toBe(false);
      expect(alive(k.pid)).toBe(false);
      expect(kubectl(["get", "node", k.nodeName]).stderr).toContain("NotFound");
    } finally {
      await k.stop();
      deleteNamespace(other);
    }
  });

  it("reports a pod as Failed when the kubelet that ran it is gone and a new one takes its node", async () => {
    const other = newNamespace("kubelet-lost");
    const nodeName = `${other}-node`;
    const opts = { kubeconfig: inject("kubeconfig"), nodeName, namespaces: [other], images: boxImage };
    const first = await startKubelet({ ...opts, keepNode: true });
    let second: Kubelet | undefined;
    try {
      apply(sleeper(other, nodeName));
      await waitFor("the sleeper process", async () => (await first.processes())[0]);
      await first.stop();
      second = await startKubelet(opts);
      const pod = await waitFor("the lost pod to fail", async () => {
        const p = await client.get<Pod>(paths.object("v1", "pods", other, "sleeper"));
        return p.status?.phase === "Failed" ? p : undefined;
      });
      expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({
        exitCode: 137,
        reason: "ContainerStatusUnknown",
      });
    } finally {
      await first.stop();
      await second?.stop();
      deleteNamespace(other);
    }
  });

  it("kills its containers and exits when the process that started it dies", async () => {
    const other = newNamespace("kubelet-orphan");
    const dir = mkdtempSync(join(tmpdir(), "kubelet-orphan-"));
    const host = spawn(process.execPath, [join(fixtures, "host.ts"), inject("kubeconfig"), other], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const first = await new Promise<string>((res, rej) => {
        createInterface({ input: host.stdout }).once("line", res);
        host.once("exit", (code) => rej(new Error(`host.ts exited (${code}) before its kubelet was ready`)));
      });
      const info = JSON.parse(first) as { nodeName: string; pid: number };
      apply(sleeper(other, info.nodeName, [`pid:${join(dir, "pid")}`]));
      const pid = await waitFor("the sleeper's pid", async () =>
        existsSync(join(dir, "pid")) ? Number(readFileSync(join(dir, "pid"), "utf8")) : undefined,
      );
      expect(alive(pid)).toBe(true);
      host.kill("SIGKILL");
      await waitFor("the container process to end", async () => !alive(pid), 20_000);
      await waitFor("the kubelet process to end", async () => !alive(info.pid), 20_000);
      expect(kubectl(["get", "node", info.nodeName]).stderr).toContain("NotFound");
    } finally {
      host.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      deleteNamespace(other);
    }
  });
});
