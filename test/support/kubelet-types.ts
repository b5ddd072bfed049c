/**
 * The parts of the core/v1 objects the test kubelet reads and writes, as they appear in JSON.
 * Hand-written and partial on purpose: the kubelet only needs these fields.
 */

/** ObjectMeta is the metadata the kubelet reads. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

/** KeyRef names a key of a ConfigMap or Secret. */
export interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

/** FieldRef selects a field of the pod (downward API). */
export interface FieldRef {
  fieldPath: string;
}

/** EnvVar is one container environment variable. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: FieldRef;
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
    resourceFieldRef?: unknown;
  };
}

/** EnvFromSource imports every key of a ConfigMap or Secret. */
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

/** VolumeMount places a volume (or a sub-path of it) at mountPath. */
export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

/** Container is a container (or init container) of a pod spec. */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  volumeMounts?: VolumeMount[];
  terminationMessagePath?: string;
  terminationMessagePolicy?: "File" | "FallbackToLogsOnError";
  restartPolicy?: string;
}

/** KeyToPath projects one key to a relative file path. */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** DownwardFile is one file of a downwardAPI volume. */
export interface DownwardFile {
  path: string;
  fieldRef?: FieldRef;
  resourceFieldRef?: unknown;
  mode?: number;
}

/** ObjectVolumeSource is a configMap or secret volume source (secret names its object secretName). */
export interface ObjectVolumeSource {
  name?: string;
  secretName?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

/** ProjectionSource is one source of a projected volume. */
export interface ProjectionSource {
  configMap?: ObjectVolumeSource;
  secret?: ObjectVolumeSource;
  downwardAPI?: { items?: DownwardFile[] };
  serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
}

/** Volume is a pod volume; the kubelet supports the sources listed here. */
export interface Volume {
  name: string;
  emptyDir?: Record<string, unknown>;
  configMap?: ObjectVolumeSource;
  secret?: ObjectVolumeSource;
  downwardAPI?: { items?: DownwardFile[]; defaultMode?: number };
  projected?: { sources?: ProjectionSource[]; defaultMode?: number };
  hostPath?: { path: string; type?: string };
  [source: string]: unknown;
}

/** PodSpec is the part of a pod spec the kubelet runs. */
export interface PodSpec {
  nodeName?: string;
  schedulerName?: string;
  nodeSelector?: Record<string, string>;
  serviceAccountName?: string;
  restartPolicy?: "Always" | "OnFailure" | "Never";
  activeDeadlineSeconds?: number;
  terminationGracePeriodSeconds?: number;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}

/** ContainerStateTerminated is a finished container. */
export interface Terminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

/** ContainerState is exactly one of waiting, running or terminated. */
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: Terminated;
}

/** ContainerStatus is the kubelet's report of one container. */
export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
}

/** PodCondition is one condition of a pod. */
export interface PodCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** PodPhase is the pod's lifecycle phase. */
export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

/** PodStatus is what the kubelet writes to the status subresource. */
export interface PodStatus {
  phase?: PodPhase;
  reason?: string;
  message?: string;
  conditions?: PodCondition[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  observedGeneration?: number;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
}

/** Pod is a core/v1 Pod. */
export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

/** DataObject is a ConfigMap or a Secret (Secret data is base64, ConfigMap binaryData too). */
export interface DataObject {
  metadata: ObjectMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}
