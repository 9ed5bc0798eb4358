// A tied-embedding twin of a generated test model (no preset small enough for tests ties its LM head).
import path from "node:path";
import { openGguf } from "../gguf/index.js";
import { writeGguf } from "../gguf/writer.js";
import { testFolder, testModel } from "./test-models.js";

const made = new Map<string, Promise<string>>();

/**
 * Path of the `tiny` F32 test model (seed 1) rewritten without `output.weight`, so llama.cpp and the
 * trainer read its LM head from `token_embd.weight`, as in SmolLM2. Written once per test process.
 */
export function tiedTestModel(): Promise<string> {
  const key = "tiny-tied-F32-1.gguf";
  let file = made.get(key);
  if (!file) {
    file = (async () => {
      const base = await openGguf(await testModel("tiny", "F32"));
      try {
        const out = path.join(await testFolder(), key);
        await writeGguf(out, {
          metadata: base.metadata,
          tensors: base.tensors
            .filter((t) => t.name !== "output.weight")
            .map((t) => ({ name: t.name, shape: t.shape, type: "F32", data: () => base.readTensor(t.name) })),
        });
        return out;
      } finally {
        await base.close();
      }
    })();
    made.set(key, file);
  }
  return file;
}
