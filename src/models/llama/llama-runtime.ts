// One llama.cpp runtime per process and one loaded copy of each model file, shared by every
// LanguageModel that uses it (with or without adapters): contexts are cheap, weights are not.
import { stat } from "node:fs/promises";
import path from "node:path";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { ModelLoadError } from "../errors/model-load-error.js";

/** Where llama.cpp runs: `"auto"` uses a GPU when there is one (CUDA, Metal, Vulkan), else the CPU. */
export type LlamaGpuChoice = "auto" | false;

let runtime: Promise<Llama> | undefined;
const models = new Map<string, { model: Promise<LlamaModel>; users: number }>();

/** The process-wide llama.cpp runtime (created on first use). */
export function llamaRuntime(gpu: LlamaGpuChoice = "auto"): Promise<Llama> {
  // The first caller's choice wins: llama.cpp loads one backend per process.
  if (!runtime) {
    runtime = getLlama({ gpu, logLevel: LlamaLogLevel.error, progressLogs: false }).catch(
      (error: unknown) => {
        runtime = undefined;
        throw error;
      },
    );
  }
  return runtime;
}

/** Identity of a file on disk: changes when the file is rewritten. */
export async function fileIdentity(filePath: string): Promise<string> {
  try {
    const info = await stat(filePath);
    return `${path.resolve(filePath)}#${info.size}#${Math.round(info.mtimeMs)}`;
  } catch {
    throw new ModelLoadError(filePath, "no such file");
  }
}

/** Loads (or reuses) a model file; pair every call with {@link releaseLlamaModel}. */
export async function acquireLlamaModel(filePath: string, gpu: LlamaGpuChoice): Promise<LlamaModel> {
  const key = await fileIdentity(filePath);
  let entry = models.get(key);
  if (!entry) {
    const model = llamaRuntime(gpu).then((llama) =>
      llama.loadModel({ modelPath: path.resolve(filePath) }).catch((error: unknown) => {
        models.delete(key);
        throw new ModelLoadError(filePath, error instanceof Error ? error.message : String(error), {
          cause: error,
        });
      }),
    );
    entry = { model, users: 0 };
    models.set(key, entry);
  }
  entry.users += 1;
  return entry.model;
}

/** Gives back a model from {@link acquireLlamaModel}; the last user frees its weights. */
export async function releaseLlamaModel(model: LlamaModel): Promise<void> {
  for (const [key, entry] of models) {
    if ((await entry.model.catch(() => undefined)) !== model) continue;
    entry.users -= 1;
    if (entry.users <= 0) {
      models.delete(key);
      await model.dispose();
    }
    return;
  }
}
