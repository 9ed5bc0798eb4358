import { configDefaults, defineConfig } from "vitest/config";

// The reduced `cai demo` runs first and alone: it trains two jobs at once (one core each), and sharing the
// two cores with other test files would double its time.
const demoTest = "src/organism/demo/demo.test.ts";

export default defineConfig({
  test: {
    // Tests load llama.cpp in-process; with 2 cores, a few forks at a time keep them fast and stable.
    pool: "forks",
    // Compiles the CLI once for the tests' `cai` child processes (src/test-support/build-cli.ts).
    globalSetup: ["src/test-support/build-cli.ts"],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "demo", include: [demoTest], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: "rest",
          include: ["src/**/*.test.ts"],
          exclude: [...configDefaults.exclude, demoTest],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
