// Runs the revision stage over a prompt set into a run directory: resumable (each prompt's trace is
// committed as it lands), bounded concurrency, stoppable between prompts.
import type { ChatMessage, LanguageModel } from "../../models/model.js";
import type { ProgressReporter } from "../../runs/progress.js";
import { runRecords, type StageRunResult } from "../../runs/run-loop.js";
import { RunStore } from "../../runs/run-store.js";
import { type ReviseSettings, type RevisionTrace, reviseRecord } from "./revise-record.js";

/** A prompt to revise, with what the datasets keep about it. */
export interface RevisePrompt {
  id: string;
  kind: string;
  category: string;
  split: "train" | "test";
  prompt: string | ChatMessage[];
}

/** The settings that define a revision run; a rerun must match them to resume. */
export interface ReviseRunConfig {
  policy: string;
  critic: string;
  rounds: number;
  seed: number;
  maxTokens: number;
  temperature: number;
  earlyStop: boolean;
  /** False: direct revision, no critique turn (absent means true, so older runs resume). */
  critique?: boolean;
  /** Skip revisions the critique finds unneeded but go on with the rounds (absent means false). */
  keepWhenFine?: boolean;
}

/** Options of {@link runRevise}. */
export interface RunReviseOptions
  extends Omit<
    ReviseSettings,
    | "policy"
    | "critic"
    | "rounds"
    | "seed"
    | "maxTokens"
    | "temperature"
    | "earlyStop"
    | "critique"
    | "keepWhenFine"
  > {
  runDir: string;
  prompts: RevisePrompt[];
  policy: LanguageModel;
  critic: LanguageModel;
  config: ReviseRunConfig;
  constitutionHash: string;
  concurrency: number;
  maxAttempts?: number;
  /** Discard an existing run in `runDir` and start again. */
  restart?: boolean;
  /** When it fires, no new prompt starts; prompts in flight finish and are stored. */
  stop?: AbortSignal;
  progress?: ProgressReporter;
}

/** The stored result of one prompt. */
export type ReviseResult = RevisionTrace;

/** Revises every prompt not yet done in the run; returns what this invocation did and the run's counts. */
export async function runRevise(options: RunReviseOptions): Promise<StageRunResult> {
  const store = RunStore.open(
    options.runDir,
    { stage: "revise", config: options.config, constitutionHash: options.constitutionHash },
    { restart: options.restart ?? false },
  );
  try {
    store.addRecords(options.prompts.map((p) => ({ id: p.id, input: p })));
    const settings: ReviseSettings = {
      ...options,
      ...options.config,
      policy: options.policy,
      critic: options.critic,
    };
    const outcome = await runRecords<RevisePrompt, ReviseResult>({
      store,
      concurrency: options.concurrency,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      work: (record) => reviseRecord(record.input.id, record.input.prompt, settings),
    });
    return { ...outcome, counts: store.counts(), failures: store.failureSummary() };
  } finally {
    store.close();
  }
}
