// Runs the respond stage (RL-CAI step one) over a prompt set into a run directory: every prompt's
// samples from every model are committed together as one record, so a resume never half-redoes a
// prompt; bounded concurrency; stoppable between prompts. `respondRecords` reads the run back as
// responses-file rows.
import type { ChatMessage, LanguageModel } from "../../models/model.js";
import type { ProgressReporter } from "../../runs/progress.js";
import { runRecords, type StageRunResult } from "../../runs/run-loop.js";
import { RunStore } from "../../runs/run-store.js";
import { type RespondSettings, respondToPrompt } from "./respond-record.js";
import type { ResponsesRow, SampledResponse } from "./responses-file.js";

/** The run-store stage name of respond runs. */
export const respondStage = "respond";

/** A prompt to answer, with what the responses file keeps about it. */
export interface RespondPrompt {
  id: string;
  kind: "red-team" | "helpful";
  category: string;
  split: "train" | "test";
  prompt: ChatMessage[];
}

/** The settings that define a respond run; a rerun must match them to resume. */
export interface RespondRunConfig {
  /** The models' spec strings, as given, in order. */
  models: string[];
  samples: number;
  seed: number;
  temperature: number;
  maxTokens: number;
}

/** Options of {@link runRespond}. */
export interface RunRespondOptions {
  runDir: string;
  prompts: readonly RespondPrompt[];
  /** One loaded model per `config.models` entry, in the same order. */
  models: readonly LanguageModel[];
  config: RespondRunConfig;
  concurrency: number;
  maxAttempts?: number;
  /** Discard an existing run in `runDir` and start again. */
  restart?: boolean;
  /** When it fires, no new prompt starts; prompts in flight finish and are stored. */
  stop?: AbortSignal;
  progress?: ProgressReporter;
}

/** What is stored per prompt. */
export interface RespondResult {
  responses: SampledResponse[];
}

/** Samples responses for every prompt not yet done in the run; returns what this invocation did and the run's counts. */
export async function runRespond(options: RunRespondOptions): Promise<StageRunResult> {
  const { config } = options;
  if (options.models.length !== config.models.length)
    throw new RangeError(`${options.models.length} models loaded for ${config.models.length} specs`);
  const store = RunStore.open(
    options.runDir,
    // No constitution is involved in sampling responses.
    { stage: respondStage, config, constitutionHash: "none" },
    { restart: options.restart ?? false },
  );
  try {
    store.addRecords(options.prompts.map((p) => ({ id: p.id, input: p })));
    const settings: RespondSettings = {
      models: options.models.map((model, i) => ({ spec: config.models[i] as string, model })),
      samples: config.samples,
      seed: config.seed,
      temperature: config.temperature,
      maxTokens: config.maxTokens,
    };
    const outcome = await runRecords<RespondPrompt, RespondResult>({
      store,
      concurrency: options.concurrency,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      work: async (record) => ({
        responses: await respondToPrompt(record.input.id, record.input.prompt, settings),
      }),
    });
    return { ...outcome, counts: store.counts(), failures: store.failureSummary() };
  } finally {
    store.close();
  }
}

/** The done prompts of the respond run in `runDir` as responses-file rows, sorted by id (read-only). */
export function respondRecords(runDir: string): ResponsesRow[] {
  const store = RunStore.openForReading(runDir, respondStage);
  try {
    return store
      .records<RespondPrompt, RespondResult>("done")
      .map((record) => ({ ...record.input, responses: (record.result as RespondResult).responses }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  } finally {
    store.close();
  }
}
