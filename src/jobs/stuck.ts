/**
 * A generator Job that cannot start: its pod Pending for a reason that does not fix itself (the
 * scheduler finds no node, the image cannot be pulled, a container cannot be configured), or no pod
 * at all because the API server refuses to create it (a missing service account, Pod Security
 * Admission, a quota: the Job controller's FailedCreate events). Pure: the caller reads the pods
 * and events; this says, in the scheduler's, kubelet's or API server's own words, what is wrong.
 */

/** StuckPod is the part of a pod read here. */
export interface StuckPod {
  metadata?: { name?: string; creationTimestamp?: string; deletionTimestamp?: string };
  status?: {
    phase?: string;
    startTime?: string;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    initContainerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } } }[];
    containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } } }[];
  };
}

/** JobEvent is the part of an Event about the Job read here. */
export interface JobEvent {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
}

/** StuckInput is what stuckProblem looks at. */
export interface StuckInput {
  /** jobCreated is the Job's creationTimestamp. */
  jobCreated: string | undefined;
  pods: readonly StuckPod[];
  /** events are the Job's events (read only when it has no pod: see needsEvents). */
  events: readonly JobEvent[];
  nowMs: number;
  /** graceMs is how long a pod may stay stuck before the generation fails (--pending-timeout). */
  graceMs: number;
}

/** Waiting reasons that no amount of waiting fixes: reported at once. */
const FINAL = new Set(["InvalidImageName", "ErrImageNeverPull"]);
/** Waiting reasons that a fix outside the pod could still cure: reported once graceMs has passed. */
const STUCK = new Set(["ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError"]);

function age(since: string | undefined, nowMs: number): number {
  const t = Date.parse(since ?? "");
  return Number.isFinite(t) ? nowMs - t : Number.POSITIVE_INFINITY;
}

function live(pods: readonly StuckPod[]): StuckPod[] {
  return pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Failed");
}

/** needsEvents tells whether the Job's events should be read: it has had no pod for graceMs. */
export function needsEvents(
  jobCreated: string | undefined,
  pods: readonly StuckPod[],
  nowMs: number,
  graceMs: number,
): boolean {
  return live(pods).length === 0 && age(jobCreated, nowMs) >= graceMs;
}

/** stuckProblem says why the Job cannot start, or undefined while it may still start by itself. */
export function stuckProblem(input: StuckInput): string | undefined {
  const { pods, nowMs, graceMs } = input;
  for (const pod of live(pods)) {
    const name = pod.metadata?.name ?? "?";
    const created = age(pod.metadata?.creationTimestamp, nowMs);
    const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (sched?.status === "False" && sched.reason === "Unschedulable" && created >= graceMs) {
      return `pod ${name} cannot be scheduled (${Math.round(created / 1000)} s): ${sched.message ?? "Unschedulable"}`;
    }
    const containers = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    for (const c of containers) {
      const w = c.state?.waiting;
      const reason = w?.reason ?? "";
      if (
        FINAL.has(reason) ||
        (STUCK.has(reason) && age(pod.status?.startTime ?? pod.metadata?.creationTimestamp, nowMs) >= graceMs)
      ) {
        return `container ${c.name} cannot start: ${reason}${w?.message ? ` (${w.message})` : ""}`;
      }
    }
  }
  if (!needsEvents(input.jobCreated, pods, nowMs, graceMs)) return undefined;
  const when = (e: JobEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? "") || 0;
  const refused = input.events
    .filter((e) => e.type === "Warning" && e.reason === "FailedCreate")
    .sort((a, b) => when(b) - when(a))[0];
  if (refused) return `the Job cannot create its pod: ${refused.message ?? "FailedCreate"}`;
  return undefined;
}

/**
 * nextLookMs is how long until something now waiting (an unschedulable pod, a container waiting to
 * pull or be configured, a Job without a pod) has waited graceMs: a look then reports it on time.
 * Undefined when nothing is waiting.
 */
export function nextLookMs(
  jobCreated: string | undefined,
  pods: readonly StuckPod[],
  nowMs: number,
  graceMs: number,
): number | undefined {
  const waits: number[] = [];
  const stillWaiting = (since: string | undefined) => {
    const left = graceMs - age(since, nowMs);
    if (left > 0) waits.push(left);
  };
  const podsNow = live(pods);
  if (podsNow.length === 0) stillWaiting(jobCreated);
  for (const pod of podsNow) {
    const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (sched?.status === "False" && sched.reason === "Unschedulable")
      stillWaiting(pod.metadata?.creationTimestamp);
    const containers = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    if (containers.some((c) => STUCK.has(c.state?.waiting?.reason ?? "")))
      stillWaiting(pod.status?.startTime ?? pod.metadata?.creationTimestamp);
  }
  return waits.length > 0 ? Math.min(...waits) + 100 : undefined;
}
