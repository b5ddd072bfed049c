/**
 * PodWorker runs one pod for the test kubelet: volumes, then init containers in order, then the
 * containers together, each as a local process; it reports the pod's status as a kubelet does,
 * kills the processes when the pod is deleted or its deadline passes, and serves its logs.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { KubeClient } from "../../src/runtime/client.ts";
import { deletePodNow, type EventRecorder, StatusReporter } from "./kubelet-api.ts";
import {
  type ContainerProcess,
  exitCodeOf,
  startProcess,
  terminatedState,
  terminationMessage,
} from "./kubelet-process.ts";
import type { LogRefusal, LogSource } from "./kubelet-server.ts";
import {
  ConfigError,
  commandLine,
  containerEnv,
  expandVars,
  type ImageTable,
  type LocalImage,
  lookupImage,
  type ObjectReader,
  type PodNetwork,
  translatePaths,
} from "./kubelet-spec.ts";
import {
  type ContainerRecord,
  newContainerRecord,
  type PodRecord,
  podStatus,
  unknownTerminated,
} from "./kubelet-status.ts";
import type { Container, Pod, Terminated } from "./kubelet-types.ts";
import {
  containerMounts,
  setupVolumes,
  type TokenRequester,
  UnsupportedVolumeError,
} from "./kubelet-volumes.ts";

/** PodDeps is what a pod worker needs from its kubelet. */
export interface PodDeps {
  client: KubeClient;
  images: ImageTable;
  net: PodNetwork;
  podsRoot: string;
  /** baseEnv is the environment every container starts from (PATH, the kubernetes service). */
  baseEnv: Record<string, string>;
  reader: ObjectReader;
  requestToken: TokenRequester;
  event: EventRecorder;
  log(msg: string): void;
  /** backoffMs is the first retry delay of image pulls and restarts (doubling, 30 s at most). */
  backoffMs: number;
}

interface Prepared {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  messageFile: string;
}

interface Run {
  file: string;
  done: boolean;
}

/** PodWorker runs one pod bound to the kubelet's node. */
export class PodWorker {
  readonly dir: string;
  /** done resolves when the pod has finished (or was torn down) and its last status is written. */
  done: Promise<void> = Promise.resolve();
  private readonly deps: PodDeps;
  private readonly record: PodRecord;
  private readonly procs = new Map<string, ContainerProcess>();
  private readonly runs = new Map<string, Run[]>();
  private readonly abort = new AbortController();
  private killAt = Number.POSITIVE_INFINITY;
  private killTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly status: StatusReporter;
  private deleting = false;
  private finished = false;

  constructor(deps: PodDeps, pod: Pod) {
    this.deps = deps;
    const { namespace, name, uid } = pod.metadata;
    this.dir = join(deps.podsRoot, `${namespace}_${name}_${uid}`);
    const init = pod.spec.initContainers ?? [];
    const first = init.length ? "PodInitializing" : "ContainerCreating";
    this.record = {
      pod,
      init: init.map((c) => newContainerRecord(c.name, c.image ?? "", true, "PodInitializing")),
      main: pod.spec.containers.map((c) => newContainerRecord(c.name, c.image ?? "", false, first)),
      startTime: pod.status?.startTime ?? new Date().toISOString(),
      sandboxReady: false,
      terminal: false,
    };
    this.status = new StatusReporter(
      deps.client,
      {
        pod: () => this.pod,
        status: (previous) => podStatus(this.record, deps.net.hostIP, new Date().toISOString(), previous),
        written: (updated) => {
          if (updated?.metadata?.uid === this.pod.metadata.uid)
            this.record.pod = { ...this.pod, status: updated.status };
        },
      },
      deps.log,
    );
  }

  private get pod(): Pod {
    return this.record.pod;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** start begins running the pod. */
  start(): void {
    this.done = this.run().catch((e) => this.deps.log(`pod ${this.key()}: ${(e as Error).stack ?? e}`));
  }

  /** update takes a newer copy of the pod; a deletion timestamp starts a graceful termination. */
  update(pod: Pod): void {
    this.record.pod = pod;
    if (!pod.metadata.deletionTimestamp || this.deleting) return;
    this.deleting = true;
    if (this.finished) void this.deletePod();
    else
      this.terminate(pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30);
  }

  /** forget handles a pod object that is gone: its processes are killed, nothing more is written. */
  forget(): void {
    this.status.stop();
    this.deleting = true;
    this.terminate(0);
    void this.done.then(() => rmSync(this.dir, { recursive: true, force: true }));
  }

  /** kill ends every process at once, without reporting (the kubelet is stopping). */
  async kill(): Promise<void> {
    this.status.stop();
    this.terminate(0);
    await this.done;
  }

  /** matches tells whether this worker runs the pod namespace/name. */
  matches(namespace: string, name: string): boolean {
    return this.pod.metadata.namespace === namespace && this.pod.metadata.name === name;
  }

  /** namedProcesses lists the running container processes. */
  namedProcesses(): { namespace: string; pod: string; container: string; pid: number }[] {
    const { namespace = "", name } = this.pod.metadata;
    return [...this.procs].map(([container, p]) => ({ namespace, pod: name, container, pid: p.pid }));
  }

  /**
   * terminate stops the pod: nothing starts any more, running processes get SIGTERM and, after the
   * grace period, SIGKILL (a later, shorter grace period wins).
   */
  terminate(graceSeconds: number, why?: { reason: string; message: string }): void {
    if (why) Object.assign(this.record, why);
    const first = !this.stopped;
    this.abort.abort();
    this.killAt = Math.min(this.killAt, Date.now() + Math.max(0, graceSeconds) * 1000);
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.signalAll("SIGKILL"), Math.max(0, this.killAt - Date.now()));
    if (!first) return;
    for (const c of this.procs.keys())
      if (!this.status.gone) this.deps.event(this.pod, "Normal", "Killing", `Stopping container ${c}`);
    this.signalAll(graceSeconds <= 0 ? "SIGKILL" : "SIGTERM");
  }

  private signalAll(signal: NodeJS.Signals): void {
    for (const p of this.procs.values()) p.kill(signal);
  }

  /** logSource finds the log of a container run as the kubelet's validateContainerLogStatus does. */
  logSource(container: string, previous: boolean): LogSource | LogRefusal {
    const name = this.pod.metadata.name;
    const rec = [...this.record.init, ...this.record.main].find((c) => c.name === container);
    if (!rec) return { status: 404, message: `container "${container}" not found in pod "${name}"` };
    const runs = this.runs.get(container) ?? [];
    const run = previous ? runs.at(-2) : runs.at(-1);
    if (previous && !run)
      return {
        status: 400,
        message: `previous terminated container "${container}" in pod "${name}" not found`,
      };
    const waiting = rec.state.waiting;
    if (!run || (waiting && !rec.lastState.terminated && !previous)) {
      const why =
        waiting?.reason === "ErrImagePull"
          ? "image can't be pulled"
          : waiting?.reason === "ImagePullBackOff"
            ? "trying and failing to pull image"
            : (waiting?.reason ?? "no logs yet");
      return {
        status: 400,
        message: `container "${container}" in pod "${name}" is waiting to start: ${why}`,
      };
    }
    return { file: run.file, done: () => run.done };
  }

  private key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  private async run(): Promise<void> {
    mkdirSync(join(this.dir, "logs"), { recursive: true });
    mkdirSync(join(this.dir, "rootfs"), { recursive: true });
    mkdirSync(join(this.dir, "termination"), { recursive: true });
    this.armDeadline();
    this.status.report();
    const volumes = await this.setupVolumes();
    if (volumes) {
      this.record.sandboxReady = true;
      this.status.report();
      if (await this.runInit(volumes)) await this.runMain(volumes);
    }
    await this.finish();
  }

  private armDeadline(): void {
    const seconds = this.pod.spec.activeDeadlineSeconds;
    if (seconds === undefined) return;
    const left = Date.parse(this.record.startTime) + seconds * 1000 - Date.now();
    this.deadlineTimer = setTimeout(
      () => {
        const message = "Pod was active on the node longer than the specified deadline";
        this.deps.event(this.pod, "Normal", "DeadlineExceeded", message);
        this.terminate(this.pod.spec.terminationGracePeriodSeconds ?? 30, {
          reason: "DeadlineExceeded",
          message,
        });
      },
      Math.max(0, left),
    );
  }

  private async setupVolumes(): Promise<Map<string, string> | undefined> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        return await setupVolumes({
          pod: this.pod,
          podDir: this.dir,
          net: this.deps.net,
          reader: this.deps.reader,
          requestToken: this.deps.requestToken,
        });
      } catch (e) {
        const msg = `MountVolume.SetUp failed: ${(e as Error).message}`;
        if (attempt === 0) this.deps.event(this.pod, "Warning", "FailedMount", msg);
        this.deps.log(`pod ${this.key()}: ${msg}`);
        const wait = e instanceof UnsupportedVolumeError ? 3_600_000 : this.backoff(attempt);
        await sleep(wait, this.abort.signal);
      }
    }
    return undefined;
  }

  private async runInit(volumes: Map<string, string>): Promise<boolean> {
    const specs = this.pod.spec.initContainers ?? [];
    for (const [i, c] of specs.entries()) {
      const rec = this.record.init[i];
      if (!rec || !(await this.runContainer(c, rec, volumes))) return false;
    }
    return !this.stopped;
  }

  private async runMain(volumes: Map<string, string>): Promise<void> {
    for (const rec of this.record.main) rec.state = { waiting: { reason: "ContainerCreating" } };
    this.status.report();
    await Promise.all(
      this.pod.spec.containers.map((c, i) => {
        const rec = this.record.main[i];
        return rec ? this.runContainer(c, rec, volumes) : Promise.resolve(true);
      }),
    );
  }

  private backoff(attempt: number): number {
    return Math.min(30_000, this.deps.backoffMs * 2 ** Math.min(attempt, 10));
  }

  private shouldRestart(rec: ContainerRecord, exitCode: number): boolean {
    const policy = this.pod.spec.restartPolicy ?? "Always";
    if (policy === "Never") return false;
    return rec.init || policy === "OnFailure" ? exitCode !== 0 : true;
  }

  /** runContainer runs a container until it ends for good; true when it succeeded. */
  private async runContainer(
    c: Container,
    rec: ContainerRecord,
    volumes: Map<string, string>,
  ): Promise<boolean> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const image = lookupImage(this.deps.images, c.image ?? "");
      if (!image) {
        this.imagePullFailed(rec, c.image ?? "", attempt);
        await sleep(this.backoff(attempt), this.abort.signal);
        continue;
      }
      let prepared: Prepared;
      try {
        prepared = await this.prepare(c, image, volumes);
      } catch (e) {
        if (!(e instanceof ConfigError || e instanceof UnsupportedVolumeError)) throw e;
        this.setState(rec, { waiting: { reason: "CreateContainerConfigError", message: e.message } });
        await sleep(this.backoff(attempt), this.abort.signal);
        continue;
      }
      const end = await this.execute(c, rec, prepared);
      this.setState(rec, { terminated: end });
      if (this.stopped || !this.shouldRestart(rec, end.exitCode)) return end.exitCode === 0;
      await this.crashLoop(c, rec, end);
    }
    return false;
  }

  private async crashLoop(c: Container, rec: ContainerRecord, end: Terminated): Promise<void> {
    const delay = this.backoff(rec.restartCount);
    rec.lastState = { terminated: end };
    rec.restartCount++;
    const message = `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${this.pod.metadata.name}`;
    this.deps.event(this.pod, "Warning", "BackOff", message);
    this.setState(rec, { waiting: { reason: "CrashLoopBackOff", message } });
    await sleep(delay, this.abort.signal);
  }

  private imagePullFailed(rec: ContainerRecord, ref: string, attempt: number): void {
    const known = Object.keys(this.deps.images).join(", ");
    const why = `Failed to pull image "${ref}": not in the test kubelet's image table (${known})`;
    if (attempt % 2 === 0) {
      if (attempt === 0) this.deps.event(this.pod, "Warning", "Failed", why);
      this.setState(rec, { waiting: { reason: "ErrImagePull", message: why } });
    } else {
      const message = `Back-off pulling image "${ref}": ErrImagePull: ${why}`;
      this.setState(rec, { waiting: { reason: "ImagePullBackOff", message } });
    }
  }

  private setState(rec: ContainerRecord, state: ContainerRecord["state"]): void {
    rec.state = state;
    this.status.report();
  }

  private async prepare(c: Container, image: LocalImage, volumes: Map<string, string>): Promise<Prepared> {
    const mapping = containerMounts(c, volumes, image.pathMap);
    const messageFile = join(this.dir, "termination", c.name);
    mapping.push([c.terminationMessagePath ?? "/dev/termination-log", messageFile]);
    const tx = (s: string) => translatePaths(s, mapping);
    const rootfs = join(this.dir, "rootfs");
    const base = { ...this.deps.baseEnv, HOSTNAME: this.pod.metadata.name, HOME: rootfs };
    const env = await containerEnv(c, this.pod, base, image, this.deps.net, this.deps.reader, tx);
    const argv = commandLine(c, image, (s) => expandVars(tx(s), env));
    if (!argv.length) throw new ConfigError("no command specified");
    const cwd = c.workingDir ? tx(c.workingDir) : (image.workingDir ?? rootfs);
    try {
      mkdirSync(cwd, { recursive: true });
    } catch (e) {
      throw new ConfigError(`working directory ${cwd}: ${(e as Error).message}`);
    }
    return { argv, cwd, env: Object.fromEntries(env), messageFile };
  }

  private async execute(c: Container, rec: ContainerRecord, p: Prepared): Promise<Terminated> {
    const runs = this.runs.get(c.name) ?? [];
    this.runs.set(c.name, runs);
    const run: Run = { file: join(this.dir, "logs", `${c.name}.${rec.restartCount}.log`), done: false };
    runs.push(run);
    rmSync(p.messageFile, { force: true });
    const id = `hpo-test://${randomUUID()}`;
    const startedAt = new Date().toISOString();
    let proc: ContainerProcess;
    try {
      proc = await startProcess({ argv: p.argv, cwd: p.cwd, env: p.env, logFile: run.file });
    } catch (e) {
      run.done = true;
      const message = `failed to start container: exec: ${JSON.stringify(p.argv[0])}: ${(e as Error).message}`;
      this.deps.event(this.pod, "Warning", "Failed", message);
      const now = new Date().toISOString();
      return {
        exitCode: 128,
        reason: "StartError",
        message,
        startedAt: now,
        finishedAt: now,
        containerID: id,
      };
    }
    this.procs.set(c.name, proc);
    if (this.stopped) proc.kill(this.killAt <= Date.now() ? "SIGKILL" : "SIGTERM");
    rec.containerID = id;
    this.setState(rec, { running: { startedAt } });
    const { code, signal } = await proc.exited;
    this.procs.delete(c.name);
    run.done = true;
    const src = {
      file: p.messageFile,
      fallbackToLogs: c.terminationMessagePolicy === "FallbackToLogsOnError",
      logFile: run.file,
    };
    const message = terminationMessage(src, exitCodeOf(code, signal));
    return terminatedState(code, signal, startedAt, id, message);
  }

  private async finish(): Promise<void> {
    clearTimeout(this.deadlineTimer);
    if (this.stopped) {
      this.record.terminal = true;
      const initialized = this.record.init.every((c) => c.state.terminated?.exitCode === 0);
      for (const c of this.record.init)
        if (c.state.running || (c.state.waiting && c.lastState.terminated))
          c.state = { terminated: unknownTerminated() };
      if (initialized)
        for (const c of this.record.main)
          if (!c.state.terminated) c.state = { terminated: unknownTerminated() };
    }
    await this.status.flush();
    this.finished = true;
    clearTimeout(this.killTimer);
    if (this.deleting && !this.status.gone) await this.deletePod();
  }

  private deletePod(): Promise<void> {
    return deletePodNow(this.deps.client, this.pod, this.deps.log);
  }
}

/** sleep waits ms, or less when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      res();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
