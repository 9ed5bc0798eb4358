// RL-CAI responses for one prompt: each model in turn samples K answers, every sample with its own seed
// derived from (run seed, prompt id, model index, sample index), so a rerun, a resume or another
// concurrency gives the same texts.
import type { ChatMessage, LanguageModel } from "../../models/model.js";
import { recordSeed } from "../../runs/record-seed.js";
import type { SampledResponse } from "./responses-file.js";

/** A model to sample from, with the spec string it is known by in the outputs. */
export interface RespondingModel {
  spec: string;
  model: LanguageModel;
}

/** Settings of the respond stage. */
export interface RespondSettings {
  /** In order: the responses list one model's samples after another's. */
  models: readonly RespondingModel[];
  /** Samples per model per prompt. */
  samples: number;
  /** Run seed. */
  seed: number;
  temperature: number;
  maxTokens: number;
  signal?: AbortSignal;
}

/** The sampler seed of one response: independent of order, concurrency and resumes. */
export function sampleSeed(seed: number, promptId: string, modelIndex: number, sampleIndex: number): number {
  return recordSeed(seed, `${promptId}\u0000${modelIndex}\u0000${sampleIndex}`);
}

/** Samples every model's responses to one prompt. */
export async function respondToPrompt(
  id: string,
  prompt: readonly ChatMessage[],
  settings: RespondSettings,
): Promise<SampledResponse[]> {
  const responses: SampledResponse[] = [];
  for (const [modelIndex, { spec, model }] of settings.models.entries()) {
    for (let sample = 0; sample < settings.samples; sample += 1) {
      const result = await model.generate({
        messages: prompt.map((message) => ({ ...message })),
        maxTokens: settings.maxTokens,
        temperature: settings.temperature,
        seed: sampleSeed(settings.seed, id, modelIndex, sample),
        ...(settings.signal ? { signal: settings.signal } : {}),
      });
      responses.push({ model: spec, sample, text: result.text, finishReason: result.finishReason });
    }
  }
  return responses;
}
