import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getLlama } from "node-llama-cpp";
import { afterEach, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import { fileIdentity } from "./llama-runtime.js";
import { chooseThreads } from "./thread-choice.js";

const saved = process.env.CAI_CACHE_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.CAI_CACHE_DIR;
  else process.env.CAI_CACHE_DIR = saved;
});

describe("thread choice", () => {
  it("measures each candidate count once per model file, picks the fastest, and remembers it", async () => {
    process.env.CAI_CACHE_DIR = await mkdtemp(path.join(os.tmpdir(), "cai-threads-"));
    const llama = await getLlama({ gpu: false });
    const file = await testModel();
    const model = await llama.loadModel({ modelPath: file });
    try {
      const key = await fileIdentity(file);
      const measured = await chooseThreads(llama, model, key);
      const speeds = Object.entries(measured.tokensPerSecond);
      expect(speeds).toHaveLength(Math.max(1, llama.cpuMathCores));
      const fastest = Math.max(...speeds.map(([, s]) => s));
      expect(measured.tokensPerSecond[measured.threads]).toBeGreaterThanOrEqual(fastest / 1.03);
      const stored = JSON.parse(await readFile(path.join(process.env.CAI_CACHE_DIR, "threads.json"), "utf8"));
      expect(stored[key]).toEqual(measured);
      // Remembered: the same answer comes back without measuring again.
      stored[key].tokensPerSecond = { 1: -1 };
      await writeFile(path.join(process.env.CAI_CACHE_DIR, "threads.json"), JSON.stringify(stored));
      expect((await chooseThreads(llama, model, key)).tokensPerSecond).toEqual({ 1: -1 });
    } finally {
      await model.dispose();
    }
  });
});
