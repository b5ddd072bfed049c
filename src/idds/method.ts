/**
 * The method of an iDDS HyperParameterOpt request and, for its docker method, the generator
 * container. iDDS (idds-atlas ATLASHPOWork) knows `nevergrad` (its own steering image), `docker` /
 * `container` (the user's image, `sandbox`, run as `docker run -v $(pwd):WORKDIR SANDBOX ARGUMENTS`),
 * `sandbox` (a tarball run on the iDDS host) and, in older releases, `bayesian`; a request without a
 * method whose executable contains "docker" is a docker request. Pure.
 */
import {
  type HPORequestSpec,
  type HPORequestSpecGenerator,
  HPORequestSpecMethodValues,
} from "../api/index.ts";
import { describe } from "../generators/canonical.ts";
import { PROTOCOL_ARGS } from "../jobs/protocol.ts";
import { at, type Fields, IddsConversionError, isAbsent, stringAt } from "./fields.ts";
import { ShellWordsError, splitShellWords } from "./shell-words.ts";

/** Resolved is the HPORequest's method and, when the translation sets one, its generator. */
export interface Resolved {
  method: HPORequestSpec["method"];
  generator?: HPORequestSpecGenerator;
}

/** containerFields are the request_metadata fields of the docker method. */
const containerFields = ["executable", "sandbox", "arguments", "workdir", "output_json"];

/**
 * resolveMethod reads request_metadata.method (and, for docker, the container fields); notes
 * receives the fields that the method ignores, as iDDS ignored them.
 */
export function resolveMethod(
  meta: Fields,
  nevergradOptimizer: string | undefined,
  notes: string[],
): Resolved {
  const method = methodOf(meta);
  if (nevergradOptimizer !== undefined && method !== "nevergrad") {
    notes.push(`the nevergrad optimizer ${nevergradOptimizer} is not used: the method is ${method}`);
  }
  if (method === "container") return { method, generator: containerOf(meta, notes) };
  for (const key of [...containerFields, "parameters"]) {
    const v = meta.values[key];
    if (!isAbsent(v)) {
      notes.push(
        `${at(meta, key)} (${describe(v)}) is dropped: method ${method} does not run your container`,
      );
    }
  }
  if (method !== "nevergrad" || nevergradOptimizer === undefined) return { method };
  if (!/^[A-Za-z0-9_.-]+$/.test(nevergradOptimizer)) {
    throw new IddsConversionError(
      "",
      `the nevergrad optimizer ${describe(nevergradOptimizer)} is not a name of nevergrad's registry`,
    );
  }
  return { method, generator: { args: [...PROTOCOL_ARGS, `--optimizer=${nevergradOptimizer}`] } };
}

function methodOf(meta: Fields): HPORequestSpec["method"] {
  const field = at(meta, "method");
  const raw = meta.values.method;
  if (isAbsent(raw)) {
    const executable = meta.values.executable;
    if (typeof executable === "string" && executable.includes("docker")) return "container";
    throw new IddsConversionError(
      field,
      "is missing; set it to bayesian or nevergrad, or give executable: docker with your image in sandbox",
    );
  }
  if (typeof raw !== "string") throw new IddsConversionError(field, `must be a string; got ${describe(raw)}`);
  const m = raw.trim().toLowerCase();
  if (m === "docker" || m === "container") return "container";
  if (m === "sandbox") {
    throw new IddsConversionError(
      field,
      "sandbox (a tarball run on the iDDS host) cannot run on Kubernetes; build an image from it and use " +
        "executable: docker with the image in sandbox",
    );
  }
  const known = HPORequestSpecMethodValues.filter((v) => v !== "container");
  const found = known.find((v) => v === m);
  if (found) return found;
  throw new IddsConversionError(
    field,
    `${describe(raw)} is not a method; use bayesian, nevergrad or docker (iDDS), or ${known.join(", ")}`,
  );
}

/** containerOf translates the docker method's fields into the generator container. */
function containerOf(meta: Fields, notes: string[]): HPORequestSpecGenerator {
  const executable = stringAt(meta, "executable");
  if (executable !== undefined && !executable.includes("docker")) {
    throw new IddsConversionError(
      at(meta, "executable"),
      `${describe(executable)} runs a program on the iDDS host, which Kubernetes cannot do; ` +
        "put it in a container image, give the image as sandbox and set executable: docker",
    );
  }
  const generator: HPORequestSpecGenerator = { image: imageOf(meta) };
  const args = argsOf(meta);
  if (args !== undefined) generator.args = args;
  const workdir = stringAt(meta, "workdir");
  if (workdir !== undefined) {
    if (!workdir.startsWith("/")) {
      throw new IddsConversionError(
        at(meta, "workdir"),
        `must be an absolute path such as /data; got ${describe(workdir)}`,
      );
    }
    generator.workdir = workdir;
  }
  const output = stringAt(meta, "output_json");
  if (output !== undefined) {
    if (output.includes("/")) {
      throw new IddsConversionError(
        at(meta, "output_json"),
        `must be a file name in workdir, such as output.json; got ${describe(output)}`,
      );
    }
    generator.outputFile = output;
  }
  if (!isAbsent(meta.values.parameters)) {
    notes.push(`${at(meta, "parameters")} is dropped: iDDS's HPO work never substituted it into arguments`);
  }
  return generator;
}

function imageOf(meta: Fields): string {
  const field = at(meta, "sandbox");
  const image = stringAt(meta, "sandbox");
  if (image === undefined) {
    throw new IddsConversionError(
      field,
      "is missing: the docker method needs the container image in sandbox (such as " +
        "registry.example/steering:1.0) and only the container's command in arguments",
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image) || /\.(tar\.gz|tgz|tar)$/.test(image)) {
    throw new IddsConversionError(
      field,
      `${describe(image)} is a tarball, not a container image; build an image from it`,
    );
  }
  if (/\s/.test(image))
    throw new IddsConversionError(field, `${describe(image)} is not an image name (it has spaces)`);
  return image;
}

/** argsOf splits arguments (a shell string, or already a list) into the container's args. */
function argsOf(meta: Fields): string[] | undefined {
  const field = at(meta, "arguments");
  const raw = meta.values.arguments;
  if (isAbsent(raw)) return undefined;
  let args: string[];
  if (Array.isArray(raw) && raw.every((a) => typeof a === "string")) args = raw;
  else if (typeof raw !== "string")
    throw new IddsConversionError(field, `must be a string; got ${describe(raw)}`);
  else {
    try {
      args = splitShellWords(raw);
    } catch (e) {
      if (e instanceof ShellWordsError) throw new IddsConversionError(field, e.message);
      throw e;
    }
  }
  const proxy = args.find((a) => a.includes("%X509_USER_PROXY"));
  if (proxy !== undefined) {
    throw new IddsConversionError(
      field,
      `${describe(proxy)}: X.509 proxies are out of scope: generators get no grid proxy (docs/idds-migration.md)`,
    );
  }
  return args;
}
