/**
 * How the test kubelet turns a container spec into a local process: the image table, mount-path
 * translation, `$(VAR)` expansion, the command line and the environment. Pure, apart from reading
 * ConfigMaps and Secrets through an injected reader.
 */
import type { Container, DataObject, EnvVar, Pod } from "./kubelet-types.ts";

/** LocalImage says how to run an image as a local process. */
export interface LocalImage {
  /** entrypoint is the image's ENTRYPOINT as a host command line; a container `command` replaces it. */
  entrypoint: string[];
  /** cmd is the image's CMD: the default arguments when the container sets neither command nor args. */
  cmd?: string[];
  /** env is the image's ENV, under the container's own env. */
  env?: Record<string, string>;
  /** workingDir is the host folder to run in when the container sets no workingDir. */
  workingDir?: string;
  /** pathMap maps paths inside the image to host paths (e.g. {"/opt": "<repo>/test/fixtures"}). */
  pathMap?: Record<string, string>;
}

/** ImageTable maps image references (as written in pod specs) to local commands. */
export type ImageTable = Record<string, LocalImage>;

/** lookupImage finds an image in the table: exactly, with an implicit `:latest`, or without docker.io. */
export function lookupImage(images: ImageTable, ref: string): LocalImage | undefined {
  const candidates = [ref];
  const bare = ref.replace(/^docker\.io\/(library\/)?/, "");
  candidates.push(bare);
  const lastPart = bare.split("/").pop() ?? "";
  if (!lastPart.includes(":") && !bare.includes("@")) candidates.push(`${bare}:latest`);
  for (const c of candidates) {
    const image = images[c];
    if (image) return image;
  }
  return undefined;
}

/** PathMapping is a list of [container path, host path] pairs. */
export type PathMapping = ReadonlyArray<readonly [string, string]>;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * translatePaths replaces each container path of the mapping that occurs in s as a whole path
 * prefix (`/data`, `/data/x`, `--in=/data/x`, but not `/database` or `/x/data`) with its host path;
 * the longest container path wins, and each occurrence is translated once.
 */
export function translatePaths(s: string, mapping: PathMapping): string {
  const table = new Map<string, string>();
  for (const [from, to] of mapping) {
    const key = from.length > 1 ? from.replace(/\/+$/, "") : from;
    if (key.startsWith("/") && key.length > 1 && !table.has(key)) table.set(key, to.replace(/\/+$/, ""));
  }
  if (table.size === 0) return s;
  const alternatives = [...table.keys()].sort((a, b) => b.length - a.length).map(escapeRe);
  const re = new RegExp(`(?<![\\w.~/-])(?:${alternatives.join("|")})(?![\\w.~-])`, "g");
  return s.replace(re, (m) => table.get(m) ?? m);
}

/**
 * expandVars expands `$(NAME)` references as Kubernetes does in command, args and env values:
 * a defined name is replaced, an undefined one is left as written, and `$$` is an escaped `$`.
 */
export function expandVars(s: string, vars: ReadonlyMap<string, string>): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch !== "$" || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const end = s.indexOf(")", i + 2);
      if (end < 0) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, end);
      out += vars.get(name) ?? `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

/** commandLine is the argv of a container: command replaces the entrypoint, args replace CMD. */
export function commandLine(c: Container, image: LocalImage, tx: (s: string) => string): string[] {
  const args = c.args ? c.args.map(tx) : undefined;
  if (c.command?.length) return [...c.command.map(tx), ...(args ?? [])];
  return [...image.entrypoint, ...(args ?? image.cmd ?? [])];
}

/** ConfigError is a container that cannot be configured (reported as CreateContainerConfigError). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** ObjectReader reads the ConfigMaps and Secrets a pod refers to (undefined when missing). */
export interface ObjectReader {
  configMap(namespace: string, name: string): Promise<DataObject | undefined>;
  secret(namespace: string, name: string): Promise<DataObject | undefined>;
}

/** PodNetwork is the addresses the kubelet reports for a pod. */
export interface PodNetwork {
  nodeName: string;
  hostIP: string;
  podIP: string;
}

/** fieldValue resolves a downward-API field path of a pod. */
export function fieldValue(pod: Pod, path: string, net: PodNetwork): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = m[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[m[2] ?? ""] ?? "";
  }
  const meta = pod.metadata;
  const fields: Record<string, string | undefined> = {
    "metadata.name": meta.name,
    "metadata.namespace": meta.namespace,
    "metadata.uid": meta.uid,
    "metadata.labels": formatMap(meta.labels),
    "metadata.annotations": formatMap(meta.annotations),
    "spec.nodeName": net.nodeName,
    "spec.serviceAccountName": pod.spec.serviceAccountName ?? "default",
    "status.hostIP": net.hostIP,
    "status.hostIPs": net.hostIP,
    "status.podIP": net.podIP,
    "status.podIPs": net.podIP,
  };
  if (!(path in fields)) throw new ConfigError(`unsupported fieldPath ${JSON.stringify(path)}`);
  return fields[path] ?? "";
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n");
}

/** envData is what a ConfigMap or Secret offers to environment variables: its data (decoded from
 * base64 for a Secret); a ConfigMap's binaryData never becomes environment, as in Kubernetes. */
export function envData(obj: DataObject, kind: "ConfigMap" | "Secret"): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj.data ?? {}))
    out.set(k, kind === "Secret" ? Buffer.from(v, "base64").toString("utf8") : v);
  return out;
}

async function readRef(
  reader: ObjectReader,
  namespace: string,
  kind: "ConfigMap" | "Secret",
  name: string,
  optional: boolean | undefined,
): Promise<Map<string, string> | undefined> {
  const obj = await (kind === "ConfigMap"
    ? reader.configMap(namespace, name)
    : reader.secret(namespace, name));
  if (obj) return envData(obj, kind);
  if (optional) return undefined;
  throw new ConfigError(`${kind.toLowerCase()} "${name}" not found`);
}

async function envValue(
  v: EnvVar,
  pod: Pod,
  net: PodNetwork,
  reader: ObjectReader,
): Promise<string | undefined> {
  const from = v.valueFrom;
  if (!from) return v.value ?? "";
  const ns = pod.metadata.namespace ?? "default";
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath, net);
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  if (ref) {
    const kind = from.configMapKeyRef ? "ConfigMap" : "Secret";
    const data = await readRef(reader, ns, kind, ref.name, ref.optional);
    const value = data?.get(ref.key);
    if (value === undefined && data && !ref.optional)
      throw new ConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`);
    return value;
  }
  throw new ConfigError(`env ${v.name}: unsupported valueFrom (the test kubelet has no resourceFieldRef)`);
}

/**
 * containerEnv builds a container's environment as the kubelet orders it: the base (PATH, HOME, the
 * kubernetes service), the image's ENV, envFrom, then env; each value has its mount paths
 * translated and its `$(VAR)` references expanded against the variables before it.
 */
export async function containerEnv(
  c: Container,
  pod: Pod,
  base: Record<string, string>,
  image: LocalImage,
  net: PodNetwork,
  reader: ObjectReader,
  tx: (s: string) => string,
): Promise<Map<string, string>> {
  const env = new Map<string, string>(Object.entries({ ...base, ...image.env }));
  const ns = pod.metadata.namespace ?? "default";
  for (const src of c.envFrom ?? []) {
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref) continue;
    const kind = src.configMapRef ? "ConfigMap" : "Secret";
    const data = await readRef(reader, ns, kind, ref.name, ref.optional);
    for (const [k, v] of data ?? []) env.set(`${src.prefix ?? ""}${k}`, tx(v));
  }
  for (const v of c.env ?? []) {
    const raw = await envValue(v, pod, net, reader);
    if (raw === undefined) continue;
    env.set(v.name, v.valueFrom ? tx(raw) : expandVars(tx(raw), env));
  }
  return env;
}

/** nodeSelectorMatches tells whether a pod's nodeSelector accepts a node with these labels. */
export function nodeSelectorMatches(pod: Pod, labels: Record<string, string>): boolean {
  return Object.entries(pod.spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}
