/**
 * ContainerGenerator runs a generation as a Kubernetes Job speaking the iDDS container protocol.
 * It is called on every reconcile while the generation is Running, and is idempotent: it finds
 * the generation's Job by its deterministic name (a restarted operator adopts it, when the Job's
 * owner reference carries the request's UID), creates it when missing, and reads the outcome once
 * it has ended. The output is read with a byte limit (--generator-output-limit).
 */
import { type HPORequest, pointsOfSource } from "../api/index.ts";
import type { GenerationOutcome, GenerationRequest, Generator } from "../controller/generator.ts";
import { acceptBatch } from "../controller/generator.ts";
import { type KubeClient, paths, ResponseTooLargeError } from "../runtime/client.ts";
import { AlreadyExistsError, NotFoundError } from "../runtime/errors.ts";
import { logLimitFor } from "./bytes.ts";
import { overLimit, unframeOutput } from "./frame.ts";
import { configMapFor, type JobSettings, jobFor, jobName, PolicyRefusedError } from "./manifests.ts";
import { type Owned, type OwnedObject, ownership } from "./ownership.ts";
import { checkOutput, inputDocument, placeholdersFor } from "./protocol.ts";
import { describeFailure, type Job, type Pod, pullProblem } from "./status.ts";

/** ContainerSettings configure the container generator. */
export interface ContainerSettings extends JobSettings {
  /** imagePullTimeoutMs is how long a pod may fail to pull an image before the generation fails. */
  imagePullTimeoutMs: number;
  /** pollMs is how often a running Job is looked at again when no watch event comes. */
  pollMs: number;
  /** presets fill spec.generator for methods that run a known image (method: nevergrad). */
  presets: Record<string, NonNullable<HPORequest["spec"]["generator"]>>;
  /** outputLimitBytes is the largest generator output the operator reads (--generator-output-limit). */
  outputLimitBytes: number;
}

/** withPreset returns the request with its method's preset generator under its own settings. */
export function withPreset(req: HPORequest, presets: ContainerSettings["presets"]): HPORequest {
  const preset = presets[req.spec.method];
  if (!preset) return req;
  return { ...req, spec: { ...req.spec, generator: { ...preset, ...req.spec.generator } } };
}

/** ContainerGenerator is the Generator of method: container (and nevergrad). */
export class ContainerGenerator implements Generator {
  readonly recordsIntent = true;
  private readonly client: KubeClient;
  private readonly s: ContainerSettings;

  constructor(client: KubeClient, settings: ContainerSettings) {
    this.client = client;
    this.s = settings;
  }

  async generate(g: GenerationRequest): Promise<GenerationOutcome> {
    const req = withPreset(g.request, this.s.presets);
    const ns = req.metadata?.namespace ?? "";
    const name = jobName(req.metadata?.name ?? "", g.number, g.attempt);
    let job = await this.client.get<Job>(paths.object("batch/v1", "jobs", ns, name)).catch((e) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!job) return this.createObjects(req, g, name);
    const owner = ownership(job, req);
    if (owner !== "ours") return this.notOurs("Job", name, owner);
    const pods = await this.podsOf(ns, name);
    const ended = job.status?.conditions?.find(
      (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
    );
    if (!ended) {
      const problem = pullProblem(pods, Date.now(), this.s.imagePullTimeoutMs);
      if (!problem) return { kind: "running", requeueAfterMs: this.s.pollMs };
      await this.cleanUp(ns, name, true);
      return { kind: "failed", message: `Job ${name}: ${problem}` };
    }
    job = job as Job;
    const outcome =
      ended.type === "Complete"
        ? await this.readOutput(g, req, name, pods)
        : ({
            kind: "failed",
            message: `Job ${name}: ${await describeFailure(job, pods, (p, c) => this.logTail(ns, p, c))}`,
          } as const);
    await this.cleanUp(ns, name, false);
    return outcome;
  }

  /**
   * notOurs is the outcome of finding another owner's object under the generation's name: the
   * request's former self (deleted, recreated with the same name) is garbage collected soon, so the
   * generation waits for it; anything else is in the way for good.
   */
  private notOurs(kind: string, name: string, owner: Exclude<Owned, "ours">): GenerationOutcome {
    if (owner === "predecessor") return { kind: "running", requeueAfterMs: this.s.pollMs };
    return {
      kind: "failed",
      message: `${kind} ${name} exists and does not belong to this request (its owner reference has another UID): delete it, or give the request another name`,
    };
  }

  private async createObjects(
    req: HPORequest,
    g: GenerationRequest,
    name: string,
  ): Promise<GenerationOutcome> {
    const ns = req.metadata?.namespace ?? "";
    let job: unknown;
    try {
      job = jobFor(req, name, g.number, placeholdersFor(req, g.count), this.s);
    } catch (e) {
      if (e instanceof PolicyRefusedError) return { kind: "failed", message: e.message };
      throw e;
    }
    const input = inputDocument(req, pointsOfSource(g.history));
    // The ConfigMap first: the Job's stage-in reads it, so an older one of the same name (another
    // owner's) must be gone before the Job is created.
    try {
      await this.client.create(
        paths.collection("v1", "configmaps", ns),
        configMapFor(req, name, g.number, input, this.s),
      );
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const cm = await this.client.get<OwnedObject>(paths.object("v1", "configmaps", ns, name));
      const owner = ownership(cm, req);
      if (owner !== "ours") return this.notOurs("ConfigMap", name, owner);
    }
    await this.client.create(paths.collection("batch/v1", "jobs", ns), job).catch((e) => {
      if (!(e instanceof AlreadyExistsError)) throw e;
    });
    return { kind: "running", requeueAfterMs: this.s.pollMs };
  }

  private async podsOf(ns: string, job: string): Promise<Pod[]> {
    const list = await this.client.get<{ items: Pod[] }>(paths.collection("v1", "pods", ns), {
      query: { labelSelector: `batch.kubernetes.io/job-name=${job}` },
    });
    return list.items;
  }

  private async logTail(ns: string, pod: string, container: string, lines = 20): Promise<string> {
    return this.client
      .text(`${paths.object("v1", "pods", ns, pod, "log")}`, { query: { container, tailLines: lines } })
      .catch((e) => `(log unavailable: ${(e as Error).message})`);
  }

  private async readOutput(
    g: GenerationRequest,
    req: HPORequest,
    name: string,
    pods: Pod[],
  ): Promise<GenerationOutcome> {
    const ns = req.metadata?.namespace ?? "";
    const pod = pods.find((p) => p.status?.phase === "Succeeded");
    if (!pod?.metadata?.name)
      return { kind: "failed", message: `Job ${name} completed but its pod is gone: its output was lost` };
    const limit = this.s.outputLimitBytes;
    const logLimit = logLimitFor(limit);
    let log: string;
    try {
      log = await this.client.text(paths.object("v1", "pods", ns, pod.metadata.name, "log"), {
        // The kubelet stops at limitBytes; the client stops reading past it whatever comes.
        query: { container: "stage-out", limitBytes: logLimit + 1 },
        timeoutMs: 120_000,
        maxBytes: logLimit,
      });
    } catch (e) {
      if (!(e instanceof ResponseTooLargeError)) throw e;
      return {
        kind: "failed",
        message: `Job ${name}: stage-out's log is over ${logLimit} bytes: ${overLimit(undefined, limit)}`,
      };
    }
    const frame = unframeOutput(log, limit);
    if (!frame.ok) return { kind: "failed", message: `Job ${name}: ${frame.error}` };
    const out = checkOutput(frame.json);
    if (!out.ok) return { kind: "failed", message: `Job ${name}: ${out.error}` };
    if (out.points.length === 0) return { kind: "exhausted" };
    const accepted = acceptBatch(out.points, g.space, pointsOfSource(g.history), g.count);
    if (!accepted.ok) return { kind: "failed", message: `Job ${name}: ${accepted.message}` };
    if (accepted.points.length === 0)
      return { kind: "failed", message: `Job ${name}: every point it proposed already exists` };
    return { kind: "points", points: accepted.points, warnings: accepted.warnings };
  }

  /** cleanUp deletes the input ConfigMap once read, and the Job itself when it is abandoned. */
  private async cleanUp(ns: string, name: string, deleteJob: boolean): Promise<void> {
    const ignoreMissing = (e: unknown) => {
      if (!(e instanceof NotFoundError)) throw e;
    };
    await this.client.delete(paths.object("v1", "configmaps", ns, name)).catch(ignoreMissing);
    if (deleteJob) {
      await this.client
        .delete(paths.object("batch/v1", "jobs", ns, name), { query: { propagationPolicy: "Background" } })
        .catch(ignoreMissing);
    }
  }
}
