/**
 * ContainerGenerator runs a generation as a Kubernetes Job speaking the iDDS container protocol.
 * It is called on every reconcile while the generation is Running, and is idempotent: it finds
 * the generation's Job by its deterministic name (a restarted operator adopts it, when the Job's
 * owner reference carries the request's UID), creates it when missing, and reads the outcome once
 * it has ended. The output is read with a byte limit (--generator-output-limit).
 */
import { type HPORequest, pointsOfSource } from "../api/index.ts";
import { type Refusal, refusalOf } from "../controller/failures.ts";
import type { GenerationOutcome, GenerationRequest, Generator } from "../controller/generator.ts";
import { type KubeClient, paths, ResponseTooLargeError } from "../runtime/client.ts";
import { AlreadyExistsError, NotFoundError } from "../runtime/errors.ts";
import { logLimitFor } from "./bytes.ts";
import { overLimit } from "./frame.ts";
import { configMapFor, type JobSettings, jobFor, jobName, PolicyRefusedError } from "./manifests.ts";
import { outcomeOfLog } from "./output.ts";
import { type Owned, type OwnedObject, ownership } from "./ownership.ts";
import { inputDocument, placeholdersFor } from "./protocol.ts";
import { describeFailure, type Job, type Pod } from "./status.ts";
import { type JobEvent, needsEvents, nextLookMs, stuckProblem } from "./stuck.ts";

/** ContainerSettings configure the container generator. */
export interface ContainerSettings extends JobSettings {
  /**
   * pendingTimeoutMs is how long a generator pod may stay stuck (unschedulable, image pull, config,
   * or not created at all) before the generation fails (stuck.ts).
   */
  pendingTimeoutMs: number;
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
      const problem = await this.stuck(ns, job, pods);
      if (!problem) {
        // A pod stuck for less than the timeout is looked at again when its timeout passes.
        const next = nextLookMs(job.metadata?.creationTimestamp, pods, Date.now(), this.s.pendingTimeoutMs);
        return { kind: "running", requeueAfterMs: Math.min(this.s.pollMs, next ?? this.s.pollMs) };
      }
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

  /**
   * createObjects creates the generation's ConfigMap, then its Job (the Job's stage-in reads the
   * ConfigMap, so an older one of the same name, another owner's, must be gone first). An object
   * the API server refuses for good (invalid, denied, over quota, too large) fails the attempt in
   * its words; a transient failure is thrown, and the work queue retries it.
   */
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
    const cm = await this.create(
      ns,
      "ConfigMap",
      "configmaps",
      "v1",
      name,
      configMapFor(req, name, g.number, input, this.s),
    );
    if (cm === "exists") {
      const found = await this.client.get<OwnedObject>(paths.object("v1", "configmaps", ns, name));
      const owner = ownership(found, req);
      if (owner !== "ours") return this.notOurs("ConfigMap", name, owner);
    } else if (cm) return this.refused(ns, name, g, cm);
    const created = await this.create(ns, "Job", "jobs", "batch/v1", name, job);
    if (created && created !== "exists") return this.refused(ns, name, g, created);
    return { kind: "running", requeueAfterMs: this.s.pollMs };
  }

  /** create creates one object: undefined when created, "exists", or the API server's refusal. */
  private create(
    ns: string,
    kind: string,
    plural: string,
    apiVersion: string,
    name: string,
    body: unknown,
  ): Promise<Refusal | "exists" | undefined> {
    return this.client.create(paths.collection(apiVersion, plural, ns), body).then(
      () => undefined,
      (e) => {
        if (e instanceof AlreadyExistsError) return "exists" as const;
        const refused = refusalOf(e, `the generator's ${kind} ${name}`);
        if (!refused) throw e;
        return refused;
      },
    );
  }

  /** refused is the outcome of an attempt whose ConfigMap or Job the API server refused. */
  private async refused(
    ns: string,
    name: string,
    g: GenerationRequest,
    r: Refusal,
  ): Promise<GenerationOutcome> {
    await this.cleanUp(ns, name, false);
    return { kind: "failed", message: `generation ${g.number}: ${r.message}`, terminal: r.terminal };
  }

  /** stuck says why a running Job's pod cannot start, once it has been stuck for pendingTimeoutMs. */
  private async stuck(ns: string, job: Job, pods: Pod[]): Promise<string | undefined> {
    const nowMs = Date.now();
    const graceMs = this.s.pendingTimeoutMs;
    const jobCreated = job.metadata?.creationTimestamp;
    const events = needsEvents(jobCreated, pods, nowMs, graceMs) ? await this.eventsOf(ns, job) : [];
    return stuckProblem({ jobCreated, pods, events, nowMs, graceMs });
  }

  /** eventsOf reads the Job's events (the Job controller's FailedCreate says why it has no pod). */
  private async eventsOf(ns: string, job: Job): Promise<JobEvent[]> {
    const list = await this.client.get<{ items: JobEvent[] }>(paths.collection("v1", "events", ns), {
      query: { fieldSelector: `involvedObject.kind=Job,involvedObject.name=${job.metadata?.name ?? ""}` },
    });
    return list.items;
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
    const history = { space: g.space, points: pointsOfSource(g.history), count: g.count, limit };
    return outcomeOfLog(log, history, name);
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
