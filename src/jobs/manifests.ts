/**
 * The Job and ConfigMap of one container generation, as pure functions of the request: stage-in
 * (operator image) writes idds_input.json into a pod-local emptyDir, the user's generator runs in
 * it, stage-out (operator image) checks the output and prints it framed to its log.
 */
import { gzipSync } from "node:zlib";
import { controllerRef, type HPORequest, LABEL_REQUEST } from "../api/index.ts";
import { hash32 } from "../controller/spec.ts";
import { admitGenerator, defaultPodPolicy, type PodPolicy, refusalMessage, restricted } from "./policy.ts";
import { INPUT_FILE, type Placeholders, substitute } from "./protocol.ts";

/** JobSettings are the operator-level settings of generator Jobs. */
export interface JobSettings {
  /** operatorImage runs stage-in and stage-out. */
  operatorImage: string;
  /** ttlSecondsAfterFinished lets Kubernetes delete finished Jobs (and their pods). */
  ttlSecondsAfterFinished: number;
  /** gzipAboveBytes stores idds_input.json gzip-compressed in binaryData above this size. */
  gzipAboveBytes: number;
  /** policy is the cluster admin's generator pod policy (default: defaultPodPolicy). */
  policy?: PodPolicy;
  /** outputLimitBytes is the largest output stage-out hands over (--generator-output-limit). */
  outputLimitBytes?: number;
}

/** PolicyRefusedError is a generator spec the admin's pod policy refuses. */
export class PolicyRefusedError extends Error {
  constructor(reasons: readonly string[]) {
    super(refusalMessage(reasons));
    this.name = "PolicyRefusedError";
  }
}

/** Labels every object of a generation carries. */
export const LABEL_GENERATION = "hpo.dev/generation";
export const LABEL_MANAGED = "app.kubernetes.io/managed-by";
const INPUT_MOUNT = "/hpo-input";

/** jobName is the deterministic name of a generation's Job (and ConfigMap), at most 63 characters. */
export function jobName(request: string, generation: number, attempt: number): string {
  const suffix = `-gen-${generation}${attempt > 1 ? `-r${attempt - 1}` : ""}`;
  if (request.length + suffix.length <= 63) return `${request}${suffix}`;
  const hash = hash32(request).toString(36).slice(0, 6);
  return `${request.slice(0, 63 - suffix.length - hash.length - 1).replace(/[-.]+$/, "")}-${hash}${suffix}`;
}

/** metadataFor is the metadata of a generation's Job and ConfigMap: labels and the owner reference. */
function metadataFor(req: HPORequest, name: string, generation: number) {
  return {
    name,
    namespace: req.metadata?.namespace,
    labels: labels(req, generation),
    ownerReferences: [controllerRef(req)],
  };
}

function labels(req: HPORequest, generation: number): Record<string, string> {
  return {
    [LABEL_REQUEST]: req.metadata?.name ?? "",
    [LABEL_GENERATION]: String(generation),
    [LABEL_MANAGED]: "hpo-operator",
  };
}

/** configMapFor holds idds_input.json (gzip-compressed in binaryData when large). */
export function configMapFor(
  req: HPORequest,
  name: string,
  generation: number,
  input: string,
  s: JobSettings,
) {
  const body =
    Buffer.byteLength(input) > s.gzipAboveBytes
      ? { binaryData: { [`${INPUT_FILE}.gz`]: gzipSync(input).toString("base64") } }
      : { data: { [INPUT_FILE]: input } };
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadataFor(req, name, generation),
    ...body,
  };
}

/**
 * jobFor is the Job of one generation, under the admin's pod policy; it throws PolicyRefusedError
 * for a generator spec the policy refuses.
 */
export function jobFor(req: HPORequest, name: string, generation: number, p: Placeholders, s: JobSettings) {
  const g = req.spec.generator ?? {};
  const admitted = admitGenerator(g, s.policy ?? defaultPodPolicy);
  if (!admitted.ok) throw new PolicyRefusedError(admitted.reasons);
  const workdir = g.workdir ?? "/data";
  const outputFile = g.outputFile ?? "output.json";
  // stage-out checks the points against idds_input.json's opt_space when that is the space the
  // operator checks them against: not when the request has both (optSpace goes to the generator
  // verbatim, searchSpace is the operator's).
  const nonEmpty = (m: object | undefined) => m !== undefined && Object.keys(m).length > 0;
  const bothSpaces = nonEmpty(req.spec.searchSpace) && nonEmpty(req.spec.optSpace);
  const checkInput = bothSpaces ? [] : [`--input=${workdir}/${INPUT_FILE}`];
  const limit = s.outputLimitBytes === undefined ? [] : [`--max-bytes=${s.outputLimitBytes}`];
  const stage = (args: string[], mounts: object[]) => ({
    image: s.operatorImage,
    args,
    volumeMounts: mounts,
    securityContext: { ...restricted, readOnlyRootFilesystem: true, runAsUser: 65532, runAsGroup: 65532 },
    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  });
  // The root filesystem is read-only: the generator writes in workdir, and /tmp is a volume too.
  const tmp = workdir.replace(/\/+$/, "") === "/tmp" ? [] : [{ name: "tmp", mountPath: "/tmp" }];
  const generator: Record<string, unknown> = {
    name: "generator",
    image: g.image,
    workingDir: workdir,
    volumeMounts: [{ name: "work", mountPath: workdir }, ...tmp],
    securityContext: admitted.securityContext,
    resources: admitted.resources,
  };
  if (g.command?.length) generator.command = g.command.map((a) => substitute(a, p));
  if (g.args?.length) generator.args = g.args.map((a) => substitute(a, p));
  if (g.env?.length) generator.env = g.env;
  const emptyDir = { sizeLimit: admitted.emptyDirSizeLimit };
  const podSpec: Record<string, unknown> = {
    restartPolicy: "Never",
    automountServiceAccountToken: Boolean(admitted.serviceAccountName),
    securityContext: { seccompProfile: { type: "RuntimeDefault" } },
    volumes: [
      { name: "work", emptyDir },
      ...(tmp.length > 0 ? [{ name: "tmp", emptyDir }] : []),
      { name: "input", configMap: { name } },
    ],
    initContainers: [
      {
        name: "stage-in",
        ...stage(
          ["stage-in", `--from=${INPUT_MOUNT}`, `--to=${workdir}`],
          [
            { name: "input", mountPath: INPUT_MOUNT, readOnly: true },
            { name: "work", mountPath: workdir },
          ],
        ),
      },
      generator,
    ],
    containers: [
      {
        name: "stage-out",
        ...stage(
          ["stage-out", `--file=${workdir}/${outputFile}`, ...checkInput, ...limit],
          [{ name: "work", mountPath: workdir, readOnly: true }],
        ),
      },
    ],
  };
  if (admitted.serviceAccountName) podSpec.serviceAccountName = admitted.serviceAccountName;
  if (g.nodeSelector) podSpec.nodeSelector = g.nodeSelector;
  if (g.tolerations) podSpec.tolerations = g.tolerations;
  if (g.imagePullSecrets) podSpec.imagePullSecrets = g.imagePullSecrets;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadataFor(req, name, generation),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: g.timeoutSeconds ?? 600,
      ttlSecondsAfterFinished: s.ttlSecondsAfterFinished,
      template: { metadata: { labels: labels(req, generation) }, spec: podSpec },
    },
  };
}
