/**
 * The pod status the test kubelet reports, computed from what its containers did: the phase (the
 * kubelet's getPhase rules, without sidecars), container statuses and the kubelet-owned conditions.
 * Pure: time and the previous conditions come in as arguments.
 */
import type {
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
  PodPhase,
  PodStatus,
  Terminated,
} from "./kubelet-types.ts";

/** ContainerRecord is what the kubelet knows about one container of a pod. */
export interface ContainerRecord {
  name: string;
  image: string;
  init: boolean;
  state: ContainerState;
  lastState: ContainerState;
  restartCount: number;
  containerID?: string;
}

/** PodRecord is what the kubelet knows about one pod. */
export interface PodRecord {
  pod: Pod;
  init: ContainerRecord[];
  main: ContainerRecord[];
  startTime: string;
  /** sandboxReady: volumes are set up and containers may start. */
  sandboxReady: boolean;
  /** terminal: the pod is being torn down (deleted, deadline) and nothing will start again. */
  terminal: boolean;
  reason?: string;
  message?: string;
}

/** unknownTerminated is the state the kubelet gives a container it cannot find any more. */
export function unknownTerminated(): Terminated {
  return {
    exitCode: 137,
    reason: "ContainerStatusUnknown",
    message: "The container could not be located when the pod was terminated",
  };
}

/** newContainerRecord is a container that has not started: waiting with the kubelet's first reason. */
export function newContainerRecord(
  name: string,
  image: string,
  init: boolean,
  reason: string,
): ContainerRecord {
  return { name, image, init, state: { waiting: { reason } }, lastState: {}, restartCount: 0 };
}

/** isRunning tells whether a container's process is up. */
export function isRunning(c: ContainerRecord): boolean {
  return c.state.running !== undefined;
}

/** podPhase mirrors the kubelet's getPhase for a pod without restartable (sidecar) init containers. */
export function podPhase(r: PodRecord): PodPhase {
  const policy = r.pod.spec.restartPolicy ?? "Always";
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of r.init) {
    const t = c.state.terminated ?? (c.state.waiting ? c.lastState.terminated : undefined);
    if (c.state.terminated && c.state.terminated.exitCode === 0) continue;
    if (t && t.exitCode !== 0) failedInit++;
    else pendingInit++;
  }
  if (failedInit > 0 && policy === "Never") return "Failed";
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of r.main) {
    if (c.state.running) running++;
    else if (c.state.terminated) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastState.terminated) stopped++;
    else waiting++;
  }
  if (pendingInit > 0 || waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped === 0) return "Pending";
  if (r.terminal) return stopped === succeeded ? "Succeeded" : "Failed";
  if (policy === "Always") return "Running";
  if (stopped === succeeded) return "Succeeded";
  return policy === "Never" ? "Failed" : "Running";
}

function containerStatus(c: ContainerRecord): ContainerStatus {
  const running = isRunning(c);
  const id = c.state.running || c.state.terminated ? c.containerID : undefined;
  return {
    name: c.name,
    image: c.image,
    imageID: id ? `local://${c.image}` : "",
    ...(id ? { containerID: id } : {}),
    state: c.state,
    lastState: c.lastState,
    ready: running,
    started: running,
    restartCount: c.restartCount,
  };
}

function names(cs: ContainerRecord[]): string {
  return `[${cs.map((c) => c.name).join(" ")}]`;
}

function kubeletConditions(r: PodRecord, phase: PodPhase): PodCondition[] {
  const done = phase === "Succeeded" || phase === "Failed";
  const notInitialized = r.init.filter((c) => c.state.terminated?.exitCode !== 0);
  const unready = r.main.filter((c) => !isRunning(c));
  const cond = (type: string, ok: boolean, reason?: string, message?: string): PodCondition => ({
    type,
    status: ok ? "True" : "False",
    ...(ok ? {} : { reason, message }),
  });
  const readyReason = phase === "Succeeded" ? "PodCompleted" : "ContainersNotReady";
  const readyMessage =
    phase === "Succeeded" ? undefined : `containers with unready status: ${names(unready)}`;
  const ready = unready.length === 0 && !done;
  return [
    cond("PodReadyToStartContainers", r.sandboxReady && !(r.terminal && done)),
    cond(
      "Initialized",
      notInitialized.length === 0,
      "ContainersNotInitialized",
      `containers with incomplete status: ${names(notInitialized)}`,
    ),
    cond("Ready", ready, readyReason, readyMessage),
    cond("ContainersReady", ready, readyReason, readyMessage),
    cond("PodScheduled", true),
  ];
}

/**
 * withTransitionTimes gives each condition its lastTransitionTime: kept from the previous report
 * (or the API object) when the status did not change, else now.
 */
export function withTransitionTimes(
  conditions: PodCondition[],
  previous: PodCondition[] | undefined,
  now: string,
  generation: number | undefined,
): PodCondition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return conditions.map((c) => {
    const old = before.get(c.type);
    const time = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { ...c, lastProbeTime: null, lastTransitionTime: time, observedGeneration: generation };
  });
}

/** podStatus is the status to report for a pod record. */
export function podStatus(r: PodRecord, ip: string, now: string, previous?: PodCondition[]): PodStatus {
  let phase = podPhase(r);
  const allStopped = [...r.init, ...r.main].every((c) => !isRunning(c));
  if (r.terminal && allStopped && phase !== "Succeeded") phase = "Failed";
  const generation = r.pod.metadata.generation;
  return {
    phase,
    ...(r.reason ? { reason: r.reason, message: r.message } : {}),
    conditions: withTransitionTimes(
      kubeletConditions(r, phase),
      previous ?? r.pod.status?.conditions,
      now,
      generation,
    ),
    hostIP: ip,
    hostIPs: [{ ip }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: r.startTime,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(r.init.length ? { initContainerStatuses: r.init.map(containerStatus) } : {}),
    containerStatuses: r.main.map(containerStatus),
  };
}

/** isTerminalPhase tells whether a phase is final. */
export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}
