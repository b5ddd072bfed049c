import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` (pure logic, beside the code as src/** /*.test.ts, no servers) and
 * `integration` (test/integration and the end-to-end specs of e2e/, against one real control plane started by the global setup,
 * or the cluster of KUBECONFIG when USE_EXISTING_CLUSTER=1).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "scripts/**/*.test.ts", "test/support/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One control plane serves every file; files run in parallel on the two cores.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
