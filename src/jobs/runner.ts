/**
 * ContainerGenerator runs a generation as a Kubernetes Job speaking the iDDS container protocol.
 * It is called on every reconcile while the generation is Running, and is idempotent: it finds
 * the generation's Job by its deterministic name (a restarted operator adopts it), creates it when
 * missing, and reads the outcome once it has ended.
 */
import { type HPORequest, pointsOfSource } from "../api/index.ts";
import { refusalOf } from "../controller/failures.ts";
import type { GenerationOutcome, GenerationRequest, Generator } from "../controller/generator.ts";
import { type KubeClient, paths } from "../runtime/client.ts";
import { AlreadyExistsError, NotFoundError } from "../runtime/errors.ts";
import { configMapFor, type JobSettings, jobFor, jobName } from "./manifests.ts";
import { outcomeOfLog } from "./output.ts";
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
    if (!job) {
      const refused = await this.createObjects(req, g, name);
      if (!refused) return { kind: "running", requeueAfterMs: this.s.pollMs };
      await this.cleanUp(ns, name, false);
      return {
        kind: "failed",
        message: `generation ${g.number}: ${refused.message}`,
        terminal: refused.terminal,
      };
    }
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
   * createObjects creates the generation's ConfigMap and Job. An object the API server refuses
   * for good (invalid, denied, over quota, too large) is returned as a Refusal; a transient failure
   * is thrown, and the work queue retries it.
   */
  private async createObjects(req: HPORequest, g: GenerationRequest, name: string) {
    const ns = req.metadata?.namespace ?? "";
    const input = inputDocument(req, pointsOfSource(g.history));
    const create = (kind: string, plural: string, apiVersion: string, body: unknown) =>
      this.client.create(paths.collection(apiVersion, plural, ns), body).then(
        () => undefined,
        (e) => {
          if (e instanceof AlreadyExistsError) return undefined;
          const refused = refusalOf(e, `the generator's ${kind} ${name}`);
          if (!refused) throw e;
          return refused;
        },
      );
    return (
      (await create("ConfigMap", "configmaps", "v1", configMapFor(req, name, g.number, input, this.s))) ??
      (await create(
        "Job",
        "jobs",
        "batch/v1",
        jobFor(req, name, g.number, placeholdersFor(req, g.count), this.s),
      ))
    );
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
    const log = await this.client.text(paths.object("v1", "pods", ns, pod.metadata.name, "log"), {
      query: { container: "stage-out" },
      timeoutMs: 120_000,
    });
    return outcomeOfLog(log, { space: g.space, points: pointsOfSource(g.history), count: g.count }, name);
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
