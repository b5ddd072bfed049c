/**
 * Where the end-to-end specs run. Locally (CI, `make test`): on the test control plane, with the
 * operator as a process and the test kubelet running pods as processes. On kind (`make test-e2e`,
 * E2E_KIND=1): on the cluster of KUBECONFIG, where e2e/kind.sh installed the operator with the Helm
 * chart, and real pods run the real image. The specs are the same.
 */
import { join } from "node:path";
import { inject } from "vitest";
import { repoRoot } from "../test/support/controlplane.ts";
import { type Kubelet, startKubelet } from "../test/support/kubelet.ts";
import { type OperatorProcess, startOperatorProcess } from "../test/support/operator.ts";

/** OPERATOR_IMAGE is the operator's image: built and loaded by e2e/kind.sh, or mapped to this checkout. */
export const OPERATOR_IMAGE = process.env.E2E_OPERATOR_IMAGE ?? "hpo-operator:e2e";

/** E2eEnv is a running environment. */
export interface E2eEnv {
  kind: boolean;
  stop(): Promise<void>;
}

/** startEnv prepares the environment for one spec file serving namespace ns. */
export async function startEnv(ns: string): Promise<E2eEnv> {
  if (process.env.E2E_KIND === "1") return { kind: true, stop: async () => {} };
  let kubelet: Kubelet | undefined;
  let op: OperatorProcess | undefined;
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns],
    images: { [OPERATOR_IMAGE]: { entrypoint: [process.execPath, join(repoRoot, "src/cli/main.ts")] } },
  });
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, `--operator-image=${OPERATOR_IMAGE}`],
  });
  return {
    kind: false,
    async stop() {
      await op?.kill("SIGTERM");
      await kubelet?.stop();
      op = undefined;
      kubelet = undefined;
    },
  };
}
