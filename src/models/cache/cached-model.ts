// Wraps any LanguageModel so deterministic calls (greedy or seeded generation, and all scoring) are
// answered from a CallCache when the same call was made before.
import type {
  ChoiceScores,
  GenerateOptions,
  GenerateResult,
  LanguageModel,
  LogLikelihoodOptions,
  LogLikelihoodResult,
  ScoreChoicesOptions,
} from "../model.js";
import { CallCache } from "./call-cache.js";

/** True when a generation call gives the same answer every time: greedy, or sampled with a fixed seed. */
export function isDeterministic(options: GenerateOptions): boolean {
  return (options.temperature ?? 1) === 0 || options.seed !== undefined;
}

/** The model with its deterministic calls cached in `cache`. */
export function withCallCache(model: LanguageModel, cache: CallCache): LanguageModel {
  async function cached<T>(operation: string, request: unknown, call: () => Promise<T>): Promise<T> {
    const key = CallCache.key(operation, model.fingerprint, request);
    const hit = cache.get<T>(key);
    if (hit !== undefined) return hit;
    const result = await call();
    cache.put(key, operation, model.fingerprint, result);
    return result;
  }
  const wrapped: LanguageModel = {
    provider: model.provider,
    modelId: model.modelId,
    fingerprint: model.fingerprint,
    capabilities: model.capabilities,
    async generate(options: GenerateOptions): Promise<GenerateResult> {
      if (!isDeterministic(options)) return model.generate(options);
      const { signal: _s, timeoutMs: _t, onText, ...request } = options;
      let streamed = false;
      const result = await cached("generate", request, () =>
        model.generate({
          ...options,
          ...(onText
            ? {
                onText: (delta: string) => {
                  streamed = true;
                  onText(delta);
                },
              }
            : {}),
        }),
      );
      if (onText && !streamed && result.text) onText(result.text);
      return result;
    },
  };
  if (model.scoreChoices) {
    const scoreChoices = model.scoreChoices.bind(model);
    wrapped.scoreChoices = (options: ScoreChoicesOptions): Promise<ChoiceScores> => {
      const { signal: _s, timeoutMs: _t, ...request } = options;
      return cached("scoreChoices", request, () => scoreChoices(options));
    };
  }
  if (model.logLikelihood) {
    const logLikelihood = model.logLikelihood.bind(model);
    wrapped.logLikelihood = (options: LogLikelihoodOptions): Promise<LogLikelihoodResult> => {
      const { signal: _s, timeoutMs: _t, ...request } = options;
      return cached("logLikelihood", request, () => logLikelihood(options));
    };
  }
  if (model.info) wrapped.info = model.info.bind(model);
  if (model.close) wrapped.close = model.close.bind(model);
  return wrapped;
}
