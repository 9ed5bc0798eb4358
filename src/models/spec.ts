// Model spec strings, as users type them in configs and flags:
//   llama:model.gguf   llama:base.gguf+adapter.gguf   llama:hf:REPO:QUANT   openai:MODEL   anthropic:MODEL
// each optionally followed by `?key=value&…` backend options (e.g. `llama:m.gguf?threads=1&parallel=8`).
// Every option is checked here, before anything loads: an unknown key or a value that cannot be meant
// (`context=-5`, `baseUrl=notaurl`) is refused, naming it, rather than passed on to fail far away.
import { ModelSpecError } from "./errors/model-spec-error.js";

/** A parsed model spec. */
export type ModelSpec =
  | { provider: "llama"; model: string; adapters: string[]; options: Record<string, string> }
  | { provider: "openai" | "anthropic"; model: string; options: Record<string, string> };

/** What is wrong with an option's value, or undefined when it is fine. */
type OptionCheck = (value: string) => string | undefined;

const wholeNumber =
  (min: number): OptionCheck =>
  (value) =>
    /^\d+$/.test(value) && Number(value) >= min ? undefined : `must be a whole number ≥ ${min}`;
const finiteNumber: OptionCheck = (value) =>
  value.trim() !== "" && Number.isFinite(Number(value)) ? undefined : "must be a number";
const onOff: OptionCheck = (value) =>
  ["", "1", "0", "true", "false"].includes(value) ? undefined : "must be true or false (or 1 or 0)";

/**
 * Why `value` is not the URL of an HTTP server (`http://127.0.0.1:8080/v1`), or undefined when it is.
 * Shared with the `--base-url` flag and the `$…_BASE_URL` variables.
 */
export function httpUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return "is not a URL (expected e.g. http://127.0.0.1:8080/v1)";
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:"
    ? undefined
    : `is a ${protocol} URL, not http: or https:`;
}

/** The `?key=value` options each backend reads (the llama ones as `createModel` applies them). */
export const modelSpecOptions = {
  llama: {
    threads: wholeNumber(1),
    context: wholeNumber(16),
    parallel: wholeNumber(1),
    scale: finiteNumber,
    cpu: onOff,
    exactKv: onOff,
    deterministic: onOff,
  },
  openai: { baseUrl: httpUrlProblem },
  anthropic: { baseUrl: httpUrlProblem },
} as const satisfies Record<ModelSpec["provider"], Record<string, OptionCheck>>;

/** Throws a ModelSpecError for the first unknown option or refused value, in the spec's order. */
function checkOptions(
  spec: string,
  provider: ModelSpec["provider"],
  options: Iterable<[string, string]>,
): void {
  const known: Record<string, OptionCheck> = modelSpecOptions[provider];
  const seen = new Set<string>();
  for (const [key, value] of options) {
    const check = Object.hasOwn(known, key) ? known[key] : undefined;
    if (!check)
      throw new ModelSpecError(
        spec,
        `unknown option "${key}"; ${provider}: takes ${Object.keys(known).join(", ")}`,
        { showSyntax: false },
      );
    if (seen.has(key)) throw new ModelSpecError(spec, `option ${key} is given twice`, { showSyntax: false });
    seen.add(key);
    const problem = check(value);
    if (problem) throw new ModelSpecError(spec, `option ${key}=${value} ${problem}`, { showSyntax: false });
  }
}

/** `spec` itself after checking its options as {@link parseModelSpec} does (for specs built in code). */
export function checkModelSpecOptions(spec: ModelSpec): ModelSpec {
  checkOptions(JSON.stringify(spec), spec.provider, Object.entries(spec.options));
  return spec;
}

/** Parses a spec string; throws {@link ModelSpecError} naming what is wrong. */
export function parseModelSpec(spec: string): ModelSpec {
  const colon = spec.indexOf(":");
  if (colon <= 0) throw new ModelSpecError(spec, "it has no backend prefix");
  const provider = spec.slice(0, colon);
  const question = spec.indexOf("?", colon);
  const body = spec.slice(colon + 1, question < 0 ? undefined : question);
  const query = new URLSearchParams(question < 0 ? "" : spec.slice(question + 1));
  const options = Object.fromEntries(query);
  if (!body) throw new ModelSpecError(spec, "the model is missing after the prefix");
  switch (provider) {
    case "llama": {
      const [model = "", ...adapters] = body.split("+");
      if (!model || adapters.some((a) => !a)) throw new ModelSpecError(spec, "an empty file name around '+'");
      checkOptions(spec, provider, query);
      return { provider, model, adapters, options };
    }
    case "openai":
    case "anthropic":
      checkOptions(spec, provider, query);
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
