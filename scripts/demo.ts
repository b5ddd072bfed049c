/**
 * demo is the project's main job (`make demo`): it starts a local control plane (or uses the cluster
 * of KUBECONFIG when USE_EXISTING_CLUSTER=1), installs the hpo.dev API, applies the samples and shows
 * what a user sees with kubectl, then stops everything it started.
 *
 * The operator itself (generation of points) arrives with the reconciler; until then the demo shows
 * the API: the CRDs, validation and `kubectl explain`.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  buildControlPlane,
  type ControlPlane,
  repoRoot,
  startControlPlane,
} from "../test/support/controlplane.ts";

function main(): Promise<void> | void {
  return run();
}

async function run(): Promise<void> {
  const kubectlBin = join(buildControlPlane(), "kubectl");
  let cp: ControlPlane | undefined;
  let kubeconfig = process.env.KUBECONFIG ?? "";
  if (process.env.USE_EXISTING_CLUSTER !== "1") {
    cp = await startControlPlane();
    kubeconfig = cp.kubeconfig;
  }
  const stop = async () => {
    await cp?.stop();
  };
  process.on("SIGINT", () => void stop().then(() => process.exit(130)));
  const k = (args: string[], input?: string, mayFail = false) => {
    process.stdout.write(`\n$ kubectl ${args.join(" ")}\n`);
    const r = spawnSync(kubectlBin, ["--kubeconfig", kubeconfig, ...args], {
      cwd: repoRoot,
      input,
      encoding: "utf8",
    });
    process.stdout.write(r.stdout + r.stderr);
    if (r.status !== 0 && !mayFail) throw new Error(`kubectl ${args.join(" ")} failed`);
  };
  try {
    k(["apply", "--server-side", "-f", "crds/"]);
    k(["wait", "--for=condition=Established", "-f", "crds/"]);
    k(["create", "namespace", "hpo-demo"], undefined, true);
    k(["apply", "-n", "hpo-demo", "-k", "config/samples"]);
    k(["get", "-n", "hpo-demo", "hpo"]);
    k(["explain", "hporequest.spec.searchSpace"]);
    process.stdout.write("\nAn invalid request is refused with a message that says what to fix:\n");
    k(
      ["apply", "-n", "hpo-demo", "-f", "-"],
      "apiVersion: hpo.dev/v1alpha1\nkind: HPORequest\nmetadata: {name: broken}\nspec:\n  method: tpe\n" +
        "  searchSpace:\n    lr: {type: float, low: 0, high: 0.1, log: true}\n",
      true,
    );
  } finally {
    await stop();
  }
  process.stdout.write("\ndemo finished; everything it started is stopped\n");
}

await main();
