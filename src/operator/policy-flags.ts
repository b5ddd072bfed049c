/**
 * The flags of the generator pod policy and the output limit (docs/operator.md,
 * docs/install.md#security): what the cluster admin lets tenants' generator pods do.
 */
import { parseBytes } from "../jobs/bytes.ts";
import type { PodPolicy, Resources } from "../jobs/policy.ts";
import type { Flag } from "./config.ts";

/** GeneratorLimits are the generator pod policy and the output limit, as the flags give them. */
export interface GeneratorLimits {
  policy: PodPolicy;
  /** outputLimitBytes is the largest generator output the operator reads. */
  outputLimitBytes: number;
}

/** generatorPolicyFlags are the flags of the generator pod policy. */
export function generatorPolicyFlags(): Flag[] {
  return [
    {
      name: "generator-allow-privileged",
      env: "HPO_GENERATOR_ALLOW_PRIVILEGED",
      def: "false",
      help: "let generator containers be privileged, escalate privileges, add capabilities or run unconfined",
      bool: true,
    },
    {
      name: "generator-allow-root",
      env: "HPO_GENERATOR_ALLOW_ROOT",
      def: "false",
      help: "let generator containers run as root (runAsUser 0, runAsNonRoot false)",
      bool: true,
    },
    {
      name: "generator-service-accounts",
      env: "HPO_GENERATOR_SERVICE_ACCOUNTS",
      def: "",
      help: 'comma-separated ServiceAccounts a generator may run as besides "default" ("*": any)',
    },
    {
      name: "generator-secrets",
      env: "HPO_GENERATOR_SECRETS",
      def: "",
      help: 'comma-separated Secrets a generator\'s env may read, in its own namespace ("*": any)',
    },
    {
      name: "generator-default-requests",
      env: "HPO_GENERATOR_DEFAULT_REQUESTS",
      def: "cpu=100m,memory=256Mi",
      help: "resource requests of a generator that sets no resources",
    },
    {
      name: "generator-default-limits",
      env: "HPO_GENERATOR_DEFAULT_LIMITS",
      def: "memory=1Gi",
      help: "resource limits of a generator that sets no resources",
    },
    {
      name: "generator-emptydir-size-limit",
      env: "HPO_GENERATOR_EMPTYDIR_SIZE_LIMIT",
      def: "1Gi",
      help: "sizeLimit of a generator pod's work and /tmp volumes",
    },
    {
      name: "generator-output-limit",
      env: "HPO_GENERATOR_OUTPUT_LIMIT",
      def: "16Mi",
      help: "largest generator output read (bytes of JSON); a larger one fails its generation",
    },
  ];
}

const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

function quantity(text: string, what: string): string {
  if (!QUANTITY.test(text))
    throw new Error(`${what}: "${text}" is not a Kubernetes quantity, such as 1Gi or 500m`);
  return text;
}

/** parseResourceList reads "cpu=100m,memory=256Mi" ("" = none). */
export function parseResourceList(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value, ...rest] = part.split("=");
    if (!name || value === undefined || rest.length > 0)
      throw new Error(`${what}: "${part}" is not name=quantity; write it like cpu=100m,memory=256Mi`);
    out[name.trim()] = quantity(value.trim(), what);
  }
  return out;
}

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** parseGeneratorLimits reads the flags of generatorPolicyFlags through get (the flag's value) and bool. */
export function parseGeneratorLimits(
  get: (name: string) => string,
  bool: (name: string) => boolean,
): GeneratorLimits {
  const flag = (name: string) => `--${name}`;
  const requests = parseResourceList(get("generator-default-requests"), flag("generator-default-requests"));
  const limits = parseResourceList(get("generator-default-limits"), flag("generator-default-limits"));
  const defaultResources: Resources = {};
  if (Object.keys(requests).length > 0) defaultResources.requests = requests;
  if (Object.keys(limits).length > 0) defaultResources.limits = limits;
  return {
    policy: {
      allowPrivileged: bool("generator-allow-privileged"),
      allowRoot: bool("generator-allow-root"),
      serviceAccounts: list(get("generator-service-accounts")),
      secrets: list(get("generator-secrets")),
      defaultResources,
      emptyDirSizeLimit: quantity(
        get("generator-emptydir-size-limit"),
        flag("generator-emptydir-size-limit"),
      ),
    },
    outputLimitBytes: parseBytes(get("generator-output-limit"), flag("generator-output-limit")),
  };
}
