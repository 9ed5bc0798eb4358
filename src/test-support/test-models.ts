// Generated models for tests: written once per test process into a temporary folder.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeRandomLora } from "../gguf/test-models/make-lora.js";
import { makeTestModel } from "../gguf/test-models/make-model.js";
import type { PresetName } from "../gguf/test-models/presets.js";

let folder: Promise<string> | undefined;
const made = new Map<string, Promise<string>>();

/** A temporary folder for this test process. */
export function testFolder(): Promise<string> {
  folder ??= mkdtemp(path.join(os.tmpdir(), "cai-test-"));
  return folder;
}

function once(key: string, make: (file: string) => Promise<unknown>): Promise<string> {
  let file = made.get(key);
  if (!file) {
    file = testFolder().then(async (dir) => {
      const out = path.join(dir, key);
      await make(out);
      return out;
    });
    made.set(key, file);
  }
  return file;
}

/** Path of a generated model (seed 1 unless told). */
export function testModel(
  preset: PresetName = "tiny",
  type: "F32" | "F16" | "Q8_0" = "F32",
  seed = 1,
): Promise<string> {
  return once(`${preset}-${type}-${seed}.gguf`, (out) => makeTestModel({ preset, type, seed, out }));
}

/** Path of a random rank-4 LoRA adapter for a generated model. */
export async function testAdapter(base: string, seed = 7): Promise<string> {
  return once(`${path.basename(base, ".gguf")}-lora-${seed}.gguf`, (out) =>
    makeRandomLora({ base, rank: 4, seed, out }),
  );
}
