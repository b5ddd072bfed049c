/**
 * Reading a generator Job's pods: why a generation failed (exit code, Kubernetes reason, the
 * generator's last log lines) and whether an image cannot be pulled. Pure but for the log reader.
 */

/** ContainerState is the part of a container's state read here. */
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; signal?: number };
}

/** ContainerStatus is a container's status in a pod. */
export interface ContainerStatus {
  name: string;
  state?: ContainerState;
}

/** Pod is the part of a pod read here. */
export interface Pod {
  metadata?: { name?: string; creationTimestamp?: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: string;
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/** Job is the part of a Job read here. */
export interface Job {
  metadata?: {
    name?: string;
    ownerReferences?: { kind?: string; name?: string; uid?: string; controller?: boolean }[];
  };
  spec?: { activeDeadlineSeconds?: number };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** LogTail reads the last lines of a container's log. */
export type LogTail = (pod: string, container: string) => Promise<string>;

const PULL_REASONS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]);

function statuses(pod: Pod): ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** pullProblem says which image cannot be pulled, once a pod has failed to pull for longer than graceMs. */
export function pullProblem(pods: readonly Pod[], nowMs: number, graceMs: number): string | undefined {
  for (const pod of pods) {
    const since = Date.parse(pod.status?.startTime ?? pod.metadata?.creationTimestamp ?? "");
    for (const c of statuses(pod)) {
      const w = c.state?.waiting;
      if (!w?.reason || !PULL_REASONS.has(w.reason)) continue;
      const final = w.reason === "InvalidImageName" || w.reason === "ErrImageNeverPull";
      if (final || !Number.isFinite(since) || nowMs - since >= graceMs) {
        return `container ${c.name} cannot start: ${w.reason}${w.message ? ` (${w.message})` : ""}`;
      }
    }
  }
  return undefined;
}

function indent(text: string): string {
  const t = text.trimEnd();
  return t
    ? `\n${t
        .split("\n")
        .map((l) => `  | ${l}`)
        .join("\n")}`
    : " (its log is empty)";
}

/** describeFailure says why a failed Job failed, with the failing container's exit code and log tail. */
export async function describeFailure(job: Job, pods: readonly Pod[], tail: LogTail): Promise<string> {
  const failed = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  if (failed?.reason === "DeadlineExceeded") {
    return `timed out after ${job.spec?.activeDeadlineSeconds ?? "?"} s (spec.generator.timeoutSeconds)`;
  }
  const pod = pods[0];
  if (!pod?.metadata?.name) {
    return `the generator's pod was lost (${failed?.reason ?? "no reason"}: ${failed?.message ?? "no message"})`;
  }
  for (const c of statuses(pod)) {
    const t = c.state?.terminated;
    if (!t || t.exitCode === 0) continue;
    const log = await tail(pod.metadata.name, c.name);
    if (c.name === "stage-out") {
      const last = log.trim().split("\n").pop() ?? "";
      return last.replace(/^hpo-operator stage-out: /, "") || `stage-out exited with code ${t.exitCode}`;
    }
    const what = c.name === "generator" ? "the generator" : c.name;
    return `${what} exited with code ${t.exitCode} (${t.reason ?? "Error"}); the last lines of its log:${indent(log)}`;
  }
  const problem = pullProblem(pods, Number.POSITIVE_INFINITY, 0);
  if (problem) return problem;
  return `the Job failed: ${failed?.reason ?? "no reason"}${failed?.message ? ` (${failed.message})` : ""}; pod ${pod.metadata.name} is ${pod.status?.phase ?? "unknown"}${pod.status?.reason ? ` (${pod.status.reason})` : ""}`;
}
