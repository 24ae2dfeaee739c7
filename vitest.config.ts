import { defineConfig } from "vitest/config";

// Two projects: fast pure unit tests beside the code, and integration suites that start emulators,
// worker processes and the embedded chain. `npm test` runs both; `npm run check` runs only unit.
export default defineConfig({
  test: {
    // The AWS SDK warns on Node 20 about its 2027 support window on every client; it says nothing about our code.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    setupFiles: ["test/setup-fast-check.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{core,adapters,functions,gpu-workers,infra,stacks,cli}/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts", "**/*.int.test.ts"],
          // The shared test experts, built once per machine before any file runs (test/global-setup.ts).
          globalSetup: ["test/global-setup.ts"],
          exclude: ["node_modules/**", "test/cloud/**"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // The cloud stack proven offline (`npm run test:cloud`): handlers bundled as SST does, run as Lambda does.
          name: "cloud",
          include: ["test/cloud/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          exclude: ["node_modules/**"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
