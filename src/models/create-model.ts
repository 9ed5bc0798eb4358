// From a spec string users type (`llama:m.gguf`, `openai:gpt-4o-mini`, `anthropic:claude-…`) to a
// loaded LanguageModel. Backends load lazily, so `openai:` users never load llama.cpp.
import path from "node:path";
import { caiCacheDir } from "../config/cache-dir.js";
import type { AnthropicModelOptions } from "./anthropic/anthropic-language-model.js";
import { withCallCache } from "./cache/cached-model.js";
import type { CallCache } from "./cache/call-cache.js";
import { ModelLoadError } from "./errors/model-load-error.js";
import { ModelSpecError } from "./errors/model-spec-error.js";
import type { LlamaModelOptions } from "./llama/llama-language-model.js";
import type { LanguageModel } from "./model.js";
import type { OpenAIModelOptions } from "./openai/openai-language-model.js";
import { type ModelSpec, parseModelSpec } from "./spec.js";

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
  const parsed = typeof spec === "string" ? parseModelSpec(spec) : spec;
  const text = typeof spec === "string" ? spec : JSON.stringify(spec);
  const o = new SpecOptions(text, parsed.options);
  switch (parsed.provider) {
    case "llama": {
      const { LlamaLanguageModel } = await import("./llama/llama-language-model.js");
      const base = options.llama ?? {};
      const threads = o.number("threads") ?? base.threads;
      const contextSize = o.number("context") ?? base.contextSize;
      const parallel = o.number("parallel") ?? base.parallel;
      const scale = o.number("scale") ?? 1;
      const modelPath = await resolveLlamaFile(parsed.model);
      return LlamaLanguageModel.load(modelPath, {
        ...base,
        adapters: [...(base.adapters ?? []), ...parsed.adapters.map((a) => ({ path: a, scale }))],
        ...(threads !== undefined ? { threads } : {}),
        ...(contextSize !== undefined ? { contextSize } : {}),
        ...(parallel !== undefined ? { parallel } : {}),
        ...(o.flag("cpu") ? { gpu: false as const } : {}),
        ...(o.flag("exactKv") ? { exactKvCache: true } : {}),
      });
    }
    case "openai": {
      const { OpenAILanguageModel } = await import("./openai/openai-language-model.js");
      const baseURL = parsed.options.baseUrl ?? options.openai?.baseURL;
      return new OpenAILanguageModel(parsed.model, { ...options.openai, ...(baseURL ? { baseURL } : {}) });
    }
    case "anthropic": {
      const { AnthropicLanguageModel } = await import("./anthropic/anthropic-language-model.js");
      const baseURL = parsed.options.baseUrl ?? options.anthropic?.baseURL;
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

/** Reads a spec's `?key=value` options with clear errors. */
class SpecOptions {
  constructor(
    private readonly spec: string,
    private readonly values: Record<string, string>,
  ) {}

  number(key: string): number | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ModelSpecError(this.spec, `option ${key}=${value} is not a number`);
    return n;
  }

  flag(key: string): boolean {
    const value = this.values[key];
    return value !== undefined && value !== "false" && value !== "0";
  }
}
