// The reward-model contract of the RL stage and its one backend: a preference model trained by
// `cai train rm` (reward-model.ts beside it), loaded from its directory and run by the tfjs trainer. A
// conversation is tokenised exactly as training tokenised it (the base model's chat template through
// llama.cpp's renderer, then the recorded end-of-turn tokens) and read at its last token by the head.
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { InvalidRequestError } from "../../models/errors/invalid-request-error.js";
import { ModelLoadError } from "../../models/errors/model-load-error.js";
import { fileIdentity } from "../../models/llama/llama-runtime.js";
import type { ChatMessage } from "../../models/model.js";
import { readGgufAdapter } from "../formats/import-gguf-adapter.js";
import { openTokenizer } from "../loop/training-run.js";
import { initTrainingBackend } from "../model/backend.js";
import { disposeLora } from "../model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import { readRewardManifest, rewardManifestFile } from "./reward-manifest.js";
import { disposeRewardHead, readRewardHead, rewardScores, rewardSequence } from "./reward-model.js";

/** A preference (reward) model: a scalar per conversation, higher for a better final assistant message. */
export interface RewardModel {
  /** Everything that changes the scores (base, adapter and head files), e.g. for a cache key. */
  readonly fingerprint: string;
  /** The score of a conversation that ends with an assistant message. */
  score(messages: readonly ChatMessage[]): Promise<number>;
  /** The scores of several conversations (one batched forward pass where the backend can). */
  scoreMany?(conversations: readonly (readonly ChatMessage[])[]): Promise<number[]>;
  /** Frees what the model holds. */
  close(): Promise<void>;
}

/** Options of {@link loadRewardModel}. */
export interface LoadRewardModelOptions {
  /** Conversations scored per forward pass by `scoreMany`. Default 4. */
  readonly batchSize?: number;
}

/**
 * Loads the reward model saved in `dir` (by `writeRewardModel`): reads `reward.json`, the base GGUF
 * weights into the tfjs trainer with the LoRA adapter and the head, and the base model's chat template
 * (llama.cpp, one thread, CPU) for tokenising. Throws `InputFileError` naming reward.json and the field
 * when the manifest is missing or malformed, {@link ModelLoadError} when a file it names cannot be used.
 */
export async function loadRewardModel(
  dir: string,
  options: LoadRewardModelOptions = {},
): Promise<RewardModel> {
  const manifest = await readRewardManifest(dir);
  const adapterPath = path.join(dir, manifest.adapter);
  const headPath = path.join(dir, manifest.head);
  const fingerprint = [
    "reward",
    ...(await Promise.all([manifest.base, adapterPath, headPath].map((file) => fileIdentity(file)))),
    manifest.endOfTurn.join(","),
  ].join("|");
  await initTrainingBackend();
  let weights: TransformerWeights;
  try {
    weights = await loadWeights(manifest.base);
  } catch (error) {
    if (ModelLoadError.isInstance(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(manifest.base, `the reward model's base: ${reason}`, { cause: error });
  }
  const cleanups: Array<() => unknown> = [() => disposeWeights(weights)];
  const cleanup = async (): Promise<void> => {
    for (const undo of cleanups.reverse()) await undo();
  };
  try {
    if (
      weights.config.embeddingLength !== manifest.dim ||
      weights.config.architecture !== manifest.architecture
    )
      throw new ModelLoadError(
        manifest.base,
        `the reward model in ${dir} was trained on a ${manifest.architecture} model of dim ${manifest.dim}, this is a ${weights.config.architecture} of dim ${weights.config.embeddingLength}`,
      );
    const adapter = await readGgufAdapter(adapterPath, weights);
    cleanups.push(() => disposeLora(adapter));
    if (
      adapter.rank !== manifest.lora.rank ||
      Math.abs(adapter.alpha - manifest.lora.alpha) > 1e-6 * manifest.lora.alpha
    )
      throw new ModelLoadError(
        adapterPath,
        `the adapter has rank ${adapter.rank} and alpha ${adapter.alpha}; ${path.join(dir, rewardManifestFile)} says rank ${manifest.lora.rank} and alpha ${manifest.lora.alpha}`,
      );
    const head = await readRewardHead(headPath, manifest.dim);
    cleanups.push(() => disposeRewardHead(head));
    const tokenizer = await openTokenizer(manifest.base);
    cleanups.push(() => tokenizer.close());
    const batchSize = options.batchSize ?? 4;
    const { contextLength } = weights.config;
    const tokensOf = (messages: readonly ChatMessage[]): number[] => {
      const last = messages[messages.length - 1];
      if (last?.role !== "assistant" || last.content === "")
        throw new InvalidRequestError(
          "a reward model scores a conversation that ends with a non-empty assistant message",
        );
      const tokens = rewardSequence(tokenizer.renderer, messages, manifest.endOfTurn);
      if (tokens.length > contextLength)
        throw new InvalidRequestError(
          `the conversation takes ${tokens.length} tokens, more than the model's context of ${contextLength}`,
        );
      return tokens;
    };
    let closed = false;
    const scoreMany = async (conversations: readonly (readonly ChatMessage[])[]): Promise<number[]> => {
      if (closed) throw new InvalidRequestError("the reward model is closed");
      const sequences = conversations.map(tokensOf);
      const scores: number[] = [];
      for (let start = 0; start < sequences.length; start += batchSize) {
        const batch = sequences.slice(start, start + batchSize);
        const values = tf.tidy(() => rewardScores(weights, adapter, head, batch).dataSync());
        scores.push(...Array.from(values));
      }
      return scores;
    };
    return {
      fingerprint,
      score: async (messages) => (await scoreMany([messages]))[0] as number,
      scoreMany,
      close: async () => {
        if (closed) return;
        closed = true;
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
