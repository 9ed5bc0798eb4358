// Model spec strings, as users type them in configs and flags:
//   llama:model.gguf   llama:base.gguf+adapter.gguf   llama:hf:REPO:QUANT   openai:MODEL   anthropic:MODEL
// each optionally followed by `?key=value&…` backend options (e.g. `llama:m.gguf?threads=1&parallel=8`).
import { ModelSpecError } from "./errors/model-spec-error.js";

/** A parsed model spec. */
export type ModelSpec =
  | { provider: "llama"; model: string; adapters: string[]; options: Record<string, string> }
  | { provider: "openai" | "anthropic"; model: string; options: Record<string, string> };

/** Parses a spec string; throws {@link ModelSpecError} naming what is wrong. */
export function parseModelSpec(spec: string): ModelSpec {
  const colon = spec.indexOf(":");
  if (colon <= 0) throw new ModelSpecError(spec, "it has no backend prefix");
  const provider = spec.slice(0, colon);
  const question = spec.indexOf("?", colon);
  const body = spec.slice(colon + 1, question < 0 ? undefined : question);
  const options = Object.fromEntries(new URLSearchParams(question < 0 ? "" : spec.slice(question + 1)));
  if (!body) throw new ModelSpecError(spec, "the model is missing after the prefix");
  switch (provider) {
    case "llama": {
      const [model = "", ...adapters] = body.split("+");
      if (!model || adapters.some((a) => !a)) throw new ModelSpecError(spec, "an empty file name around '+'");
      return { provider, model, adapters, options };
    }
    case "openai":
    case "anthropic":
      return { provider, model: body, options };
    case "reward":
      throw new ModelSpecError(
        spec,
        "reward: names a reward model, a scorer rather than a language model; load it with createRewardModel (cai models score)",
      );
    default:
      throw new ModelSpecError(spec, `unknown backend "${provider}"`);
  }
}
