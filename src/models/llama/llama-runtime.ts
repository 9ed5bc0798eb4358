// One llama.cpp runtime per process and one loaded copy of each model file, shared by every
// LanguageModel that uses it (with or without adapters): contexts are cheap, weights are not.
import { stat } from "node:fs/promises";
import path from "node:path";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { ModelLoadError } from "../errors/model-load-error.js";
import { checkLlamaFiles } from "./model-file-check.js";

/** Where llama.cpp runs: `"auto"` uses a GPU when there is one (CUDA, Metal, Vulkan), else the CPU. */
export type LlamaGpuChoice = "auto" | false;

let runtime: Promise<Llama> | undefined;
const models = new Map<string, { model: Promise<LlamaModel>; users: number }>();

/**
 * llama.cpp's error lines while model files load: held back, to become the reason of a failed load's
 * ModelLoadError (one line from the CLI instead of native log lines above a bare "Failed to load model"),
 * and printed as node-llama-cpp would once every load has ended if no error took them.
 */
const heldLog = { loading: 0, lines: [] as string[], reported: new Set<string>() };

function llamaLog(_level: LlamaLogLevel, message: string): void {
  const line = message.trim();
  if (heldLog.loading > 0) heldLog.lines.push(line);
  // A line an error already carries is not printed again: node-llama-cpp retries a failed load, and the
  // retry's lines can arrive after the rejection.
  else if (!heldLog.reported.has(line)) console.error(`[node-llama-cpp] ${line}`);
}

/** Runs a model load with llama.cpp's log held; a failure's reason gets the held lines. */
async function withHeldLog<T>(load: () => Promise<T>): Promise<T> {
  heldLog.loading += 1;
  try {
    return await load();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const said = [...new Set(heldLog.lines.splice(0))].filter((line) => line !== "" && line !== reason);
    for (const line of said) heldLog.reported.add(line);
    throw new Error(said.length > 0 ? `${reason} (llama.cpp: ${said.join("; ")})` : reason, { cause: error });
  } finally {
    heldLog.loading -= 1;
    if (heldLog.loading === 0)
      for (const line of heldLog.lines.splice(0)) llamaLog(LlamaLogLevel.error, line);
  }
}

/** The process-wide llama.cpp runtime (created on first use). */
export function llamaRuntime(gpu: LlamaGpuChoice = "auto"): Promise<Llama> {
  // The first caller's choice wins: llama.cpp loads one backend per process.
  if (!runtime) {
    runtime = getLlama({ gpu, logLevel: LlamaLogLevel.error, logger: llamaLog, progressLogs: false }).catch(
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

/**
 * Loads (or reuses) a model file; pair every call with {@link releaseLlamaModel}. The file is checked
 * first (see {@link checkLlamaFiles}): a damaged one fails at once with a ModelLoadError naming it.
 */
export async function acquireLlamaModel(filePath: string, gpu: LlamaGpuChoice): Promise<LlamaModel> {
  const key = await fileIdentity(filePath);
  let entry = models.get(key);
  if (!entry) {
    // Checked inside the shared promise, so concurrent callers still share one load.
    const model = checkLlamaFiles(filePath)
      .then(() => llamaRuntime(gpu))
      .then((llama) =>
        withHeldLog(() => llama.loadModel({ modelPath: path.resolve(filePath) })).catch((error: unknown) => {
          throw new ModelLoadError(filePath, error instanceof Error ? error.message : String(error), {
            cause: error instanceof Error ? (error.cause ?? error) : error,
          });
        }),
      )
      .catch((error: unknown) => {
        models.delete(key);
        throw error;
      });
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
