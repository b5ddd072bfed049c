/** Reading what a generation's pod printed, through the real kubectl and API server. */
import { kubectlOk } from "./kubectl.ts";

/** jobLog is the log of one container of the (first) pod of a Job, as `kubectl logs` shows it. */
export function jobLog(ns: string, job: string, container: string): string {
  const selector = `batch.kubernetes.io/job-name=${job}`;
  const jsonpath = "jsonpath={.items[0].metadata.name}";
  const pod = kubectlOk(["get", "pods", "-n", ns, "-l", selector, "-o", jsonpath]);
  return kubectlOk(["logs", "-n", ns, pod, "-c", container]);
}
