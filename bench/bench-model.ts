// The model file every benchmark uses: SmolLM2-135M's shapes with seeded random weights, generated once
// into ~/.cache/cai/bench and reused by later runs.
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { caiCacheDir } from "../src/config/cache-dir.js";
import { makeTestModel } from "../src/gguf/test-models/make-model.js";

/** Path of the cached `smollm2-135m` model of `type` (seed 1), generated on first use. */
export async function benchModelFile(type: "F16" | "Q8_0"): Promise<string> {
  const dir = path.join(caiCacheDir(), "bench");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `smollm2-135m-${type}-seed1.gguf`);
  if (!(await stat(file).catch(() => undefined))) {
    console.error(`generating ${file}…`);
    await makeTestModel({ preset: "smollm2-135m", type, seed: 1, out: file });
  }
  return file;
}
