/**
 * controlplane starts the local test control plane and keeps it running until Ctrl-C, for
 * development: `node scripts/controlplane.ts` prints the kubeconfig to use with kubectl.
 */
import { startControlPlane } from "../test/support/controlplane.ts";

const cp = await startControlPlane({ keepDir: process.argv.includes("--keep") });
process.stdout.write(`export KUBECONFIG=${cp.kubeconfig}\nkubectl: ${cp.binDir}/kubectl\n`);
const stop = () => void cp.stop().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
setInterval(() => {}, 1 << 30);
