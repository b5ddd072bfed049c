/**
 * Pod volumes of the test kubelet as folders: emptyDir, configMap, secret, downwardAPI and projected
 * (service account token, configMap, secret, downward API) become folders under the pod's folder;
 * hostPath is the host folder itself. A container's mounts become a path mapping.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fieldValue, type ObjectReader, type PathMapping, type PodNetwork } from "./kubelet-spec.ts";
import type {
  Container,
  DataObject,
  DownwardFile,
  KeyToPath,
  ObjectVolumeSource,
  Pod,
  ProjectionSource,
  Volume,
} from "./kubelet-types.ts";

/** VolumeError is a volume that cannot be set up yet (reported like FailedMount and retried). */
export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VolumeError";
  }
}

/** UnsupportedVolumeError is a volume source the test kubelet does not have; retrying cannot help. */
export class UnsupportedVolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedVolumeError";
  }
}

/** TokenRequester issues a service account token bound to a pod (the TokenRequest API). */
export type TokenRequester = (
  pod: Pod,
  audience: string | undefined,
  expirationSeconds: number | undefined,
) => Promise<string>;

/** VolumeContext is what setting up a pod's volumes needs. */
export interface VolumeContext {
  pod: Pod;
  podDir: string;
  net: PodNetwork;
  reader: ObjectReader;
  requestToken: TokenRequester;
}

function writeFile(dir: string, rel: string, content: Buffer | string, mode: number | undefined): void {
  const file = resolve(dir, rel);
  if (!file.startsWith(`${resolve(dir)}/`)) throw new VolumeError(`volume path ${rel} leaves its volume`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode ?? 0o644);
}

function keyBytes(obj: DataObject, kind: "ConfigMap" | "Secret"): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj.data ?? {}))
    out.set(k, kind === "Secret" ? Buffer.from(v, "base64") : Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) out.set(k, Buffer.from(v, "base64"));
  return out;
}

async function writeObject(
  ctx: VolumeContext,
  dir: string,
  kind: "ConfigMap" | "Secret",
  src: ObjectVolumeSource,
  defaultMode: number | undefined,
): Promise<void> {
  const name = (kind === "Secret" ? src.secretName : src.name) ?? src.name ?? "";
  const ns = ctx.pod.metadata.namespace ?? "default";
  const obj = await (kind === "ConfigMap" ? ctx.reader.configMap(ns, name) : ctx.reader.secret(ns, name));
  if (!obj) {
    if (src.optional) return;
    throw new VolumeError(`${kind.toLowerCase()} "${name}" not found`);
  }
  const data = keyBytes(obj, kind);
  const items: KeyToPath[] = src.items ?? [...data.keys()].map((key) => ({ key, path: key }));
  for (const item of items) {
    const bytes = data.get(item.key);
    if (bytes === undefined) {
      if (src.optional) continue;
      throw new VolumeError(`configuration key "${item.key}" not found in ${kind} ${ns}/${name}`);
    }
    writeFile(dir, item.path, bytes, item.mode ?? src.defaultMode ?? defaultMode);
  }
}

function writeDownward(ctx: VolumeContext, dir: string, items: DownwardFile[], defaultMode?: number): void {
  for (const item of items) {
    if (!item.fieldRef)
      throw new UnsupportedVolumeError(`downwardAPI ${item.path}: only fieldRef is supported`);
    writeFile(
      dir,
      item.path,
      fieldValue(ctx.pod, item.fieldRef.fieldPath, ctx.net),
      item.mode ?? defaultMode,
    );
  }
}

async function writeProjection(
  ctx: VolumeContext,
  dir: string,
  s: ProjectionSource,
  mode: number | undefined,
): Promise<void> {
  if (s.configMap) await writeObject(ctx, dir, "ConfigMap", s.configMap, mode);
  else if (s.secret) await writeObject(ctx, dir, "Secret", { ...s.secret, secretName: s.secret.name }, mode);
  else if (s.downwardAPI) writeDownward(ctx, dir, s.downwardAPI.items ?? [], mode);
  else if (s.serviceAccountToken) {
    const t = s.serviceAccountToken;
    let token: string;
    try {
      token = await ctx.requestToken(ctx.pod, t.audience, t.expirationSeconds);
    } catch (e) {
      throw new VolumeError(`service account token: ${(e as Error).message}`);
    }
    writeFile(dir, t.path, token, mode ?? 0o600);
  } else throw new UnsupportedVolumeError(`projected source ${Object.keys(s).join(",")} is not supported`);
}

async function setupVolume(ctx: VolumeContext, v: Volume): Promise<string> {
  if (v.hostPath) {
    if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
    return v.hostPath.path;
  }
  const dir = join(ctx.podDir, "volumes", v.name);
  mkdirSync(dir, { recursive: true });
  if (v.emptyDir) return dir;
  if (v.configMap) await writeObject(ctx, dir, "ConfigMap", v.configMap, undefined);
  else if (v.secret) await writeObject(ctx, dir, "Secret", v.secret, undefined);
  else if (v.downwardAPI) writeDownward(ctx, dir, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode);
  else if (v.projected)
    for (const s of v.projected.sources ?? []) await writeProjection(ctx, dir, s, v.projected.defaultMode);
  else {
    const kind = Object.keys(v).filter((k) => k !== "name");
    throw new UnsupportedVolumeError(`volume "${v.name}": source ${kind.join(",")} is not supported`);
  }
  return dir;
}

/** setupVolumes materialises every volume of a pod and returns the folder of each by name. */
export async function setupVolumes(ctx: VolumeContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of ctx.pod.spec.volumes ?? []) out.set(v.name, await setupVolume(ctx, v));
  return out;
}

/**
 * containerMounts is a container's path mapping: each volumeMount's mountPath to its folder (a
 * missing subPath folder is created, as the kubelet does), then the image's own path map.
 */
export function containerMounts(
  c: Container,
  volumes: ReadonlyMap<string, string>,
  pathMap: Record<string, string> | undefined,
): [string, string][] {
  const mapping: [string, string][] = [];
  for (const m of c.volumeMounts ?? []) {
    const dir = volumes.get(m.name);
    if (dir === undefined)
      throw new UnsupportedVolumeError(`volumeMount ${m.mountPath}: no volume "${m.name}"`);
    const target = m.subPath ? join(dir, m.subPath) : dir;
    if (!existsSync(target)) mkdirSync(target, { recursive: true });
    mapping.push([m.mountPath, target]);
  }
  for (const [from, to] of Object.entries(pathMap ?? {})) mapping.push([from, to]);
  return mapping satisfies PathMapping;
}
