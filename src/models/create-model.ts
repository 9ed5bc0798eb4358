// From a spec string users type (`llama:m.gguf`, `openai:gpt-4o-mini`, `anthropic:claude-…`) to a
// loaded LanguageModel. Backends load lazily, so `openai:` users never load llama.cpp.
import path from "node:path";
import { caiCacheDir } from "../config/cache-dir.js";
import { CaiError } from "../errors/cai-error.js";
import type { AnthropicModelOptions } from "./anthropic/anthropic-language-model.js";
import { withCallCache } from "./cache/cached-model.js";
import type { CallCache } from "./cache/call-cache.js";
import { ModelLoadError } from "./errors/model-load-error.js";
import type { LlamaModelOptions } from "./llama/llama-language-model.js";
import type { LanguageModel } from "./model.js";
import type { OpenAIModelOptions } from "./openai/openai-language-model.js";
import { checkModelSpecOptions, httpUrlProblem, type ModelSpec, parseModelSpec } from "./spec.js";

/** Backend options; a spec's own `?key=value` options override these. */
export interface CreateModelOptions {
  llama?: LlamaModelOptions;
  openai?: OpenAIModelOptions;
  anthropic?: AnthropicModelOptions;
  /** Serve deterministic calls from this cache (see `withCallCache`). */
  cache?: CallCache;
}

/** Loads the model a spec names. */
export async function createModel(
  spec: string | ModelSpec,
  options: CreateModelOptions = {},
): Promise<LanguageModel> {
  const model = await loadModel(spec, options);
  return options.cache ? withCallCache(model, options.cache) : model;
}

async function loadModel(spec: string | ModelSpec, options: CreateModelOptions): Promise<LanguageModel> {
  const parsed = typeof spec === "string" ? parseModelSpec(spec) : checkModelSpecOptions(spec);
  const o = new SpecOptions(parsed.options);
  switch (parsed.provider) {
    case "llama": {
      const modelPath = await resolveLlamaFile(parsed.model);
      // A damaged file is refused before node-llama-cpp (seconds to import) is even loaded.
      const { checkLlamaFiles } = await import("./llama/model-file-check.js");
      await checkLlamaFiles(modelPath, parsed.adapters);
      const { LlamaLanguageModel } = await import("./llama/llama-language-model.js");
      const base = options.llama ?? {};
      const threads = o.number("threads") ?? base.threads;
      const contextSize = o.number("context") ?? base.contextSize;
      const parallel = o.number("parallel") ?? base.parallel;
      const scale = o.number("scale") ?? 1;
      const deterministic = o.boolean("deterministic");
      return LlamaLanguageModel.load(modelPath, {
        ...base,
        adapters: [...(base.adapters ?? []), ...parsed.adapters.map((a) => ({ path: a, scale }))],
        ...(threads !== undefined ? { threads } : {}),
        ...(contextSize !== undefined ? { contextSize } : {}),
        ...(parallel !== undefined ? { parallel } : {}),
        ...(o.flag("cpu") ? { gpu: false as const } : {}),
        ...(o.flag("exactKv") ? { exactKvCache: true } : {}),
        ...(deterministic !== undefined ? { deterministic } : {}),
      });
    }
    case "openai": {
      const { OpenAILanguageModel } = await import("./openai/openai-language-model.js");
      const baseURL = parsed.options.baseUrl ?? options.openai?.baseURL;
      checkBaseUrl(baseURL, "OPENAI_BASE_URL");
      return new OpenAILanguageModel(parsed.model, { ...options.openai, ...(baseURL ? { baseURL } : {}) });
    }
    case "anthropic": {
      const { AnthropicLanguageModel } = await import("./anthropic/anthropic-language-model.js");
      const baseURL = parsed.options.baseUrl ?? options.anthropic?.baseURL;
      checkBaseUrl(baseURL, "ANTHROPIC_BASE_URL");
      return new AnthropicLanguageModel(parsed.model, {
        ...options.anthropic,
        ...(baseURL ? { baseURL } : {}),
      });
    }
  }
}

/** A local path as is; an `hf:` URI downloaded once into the cai cache (needs internet). */
async function resolveLlamaFile(model: string): Promise<string> {
  if (!model.startsWith("hf:")) return model;
  const { resolveModelFile } = await import("node-llama-cpp");
  const directory = path.join(caiCacheDir(), "models");
  try {
    return await resolveModelFile(model, { directory, cli: false });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(
      model,
      `cannot download it into ${directory} (needs internet access): ${reason}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Refuses a server URL the SDK would fail on far from the cause ("Invalid URL"): `url` as given (a spec
 * option, checked by parseModelSpec, or the caller's option), else the environment variable `variable`.
 */
function checkBaseUrl(url: string | undefined, variable: string): void {
  const [value, source] = url === undefined ? [process.env[variable], `$${variable}`] : [url, "the base URL"];
  if (!value) return;
  const problem = httpUrlProblem(value);
  if (problem) throw new CaiError(`${source} "${value}" ${problem}`);
}

/** Reads a spec's `?key=value` options, which parseModelSpec has checked (known keys, sound values). */
class SpecOptions {
  constructor(private readonly values: Record<string, string>) {}

  number(key: string): number | undefined {
    const value = this.values[key];
    return value === undefined ? undefined : Number(value);
  }

  /** True, false, or undefined when the option is not given. */
  boolean(key: string): boolean | undefined {
    return this.values[key] === undefined ? undefined : this.flag(key);
  }

  flag(key: string): boolean {
    const value = this.values[key];
    return value !== undefined && value !== "false" && value !== "0";
  }
}
