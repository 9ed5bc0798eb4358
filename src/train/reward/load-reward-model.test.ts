// The reward model scorer end to end on the generated tiny model: a preference model trained on
// conversations (polite answer ≻ curt refusal), saved with writeRewardModel, loaded through the spec
// `reward:DIR`, scores held-out conversations exactly as the trainer does and prefers the polite answer;
// a missing or malformed reward.json is an InputFileError naming the file and the field.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputFileError } from "../../errors/input-file-error.js";
import { ModelSpecError } from "../../models/errors/model-spec-error.js";
import type { ChatMessage } from "../../models/model.js";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { trainLoop } from "../loop/train-loop.js";
import { openTokenizer, type Tokenizer } from "../loop/training-run.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora, type LoraAdapter } from "../model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import type { DpoPair } from "../objectives/dpo.js";
import { rewardManifestFile } from "./reward-manifest.js";
import {
  createRewardHead,
  disposeRewardHead,
  evaluateRewardModel,
  type RewardHead,
  rewardMetrics,
  rewardObjective,
  rewardScores,
  rewardSequence,
  writeRewardModel,
} from "./reward-model.js";
import { createRewardModel, parseRewardSpec } from "./reward-spec.js";

const things = ["sea", "grass", "sun", "snow", "moon", "tree", "rain", "sand"];
const polite = (thing: string) => `the ${thing} is lovely, happy to help`;
const curt = () => "no";

function conversation(question: string, answer: string): ChatMessage[] {
  return [
    { role: "user", content: question },
    { role: "assistant", content: answer },
  ];
}

describe("reward model scorer (tiny)", () => {
  let base: string;
  let weights: TransformerWeights;
  let tokenizer: Tokenizer;
  let lora: LoraAdapter;
  let head: RewardHead;
  let dir: string;

  beforeAll(async () => {
    await initTrainingBackend();
    base = await testModel();
    weights = await loadWeights(base);
    tokenizer = await openTokenizer(base);
    lora = createLora(weights, { rank: 4, alpha: 8, seed: 1 });
    head = createRewardHead(weights.config.embeddingLength, { seed: 1 });
    const pair = (question: string, thing: string): DpoPair => {
      const tokens = (answer: string) =>
        rewardSequence(tokenizer.renderer, conversation(question, answer), tokenizer.endOfTurn);
      const chosen = tokens(polite(thing));
      const rejected = tokens(curt());
      return {
        chosen: { tokens: chosen, lossMask: chosen.map(() => 1) },
        rejected: { tokens: rejected, lossMask: rejected.map(() => 1) },
        target: 0.9,
      };
    };
    const train = things
      .slice(0, 6)
      .flatMap((t) => [pair(`tell me about the ${t}`, t), pair(`the ${t}?`, t)]);
    const held = things.slice(6).map((t) => pair(`what about the ${t}`, t));
    const objective = rewardObjective(weights, lora, head, { weightDecay: 0 });
    try {
      await trainLoop({
        objective,
        examples: train,
        batchSize: 4,
        totalSteps: 30,
        learningRate: { peak: 1e-2 },
        seed: 2,
      });
    } finally {
      objective.optimizer.dispose();
    }
    const metrics = evaluateRewardModel(weights, lora, head, held);
    dir = path.join(await mkdtemp(path.join(await testFolder(), "reward-")), "rm");
    await writeRewardModel(dir, {
      base,
      lora,
      head,
      config: weights.config,
      endOfTurn: tokenizer.endOfTurn,
      metrics: rewardMetrics(metrics),
      settings: { steps: 30 },
    });
  });
  afterAll(async () => {
    if (head) disposeRewardHead(head);
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
    await tokenizer?.close();
  });

  it("writes reward.json with the base's absolute path, the files and the LoRA settings", async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, rewardManifestFile), "utf8"));
    expect(manifest).toMatchObject({
      format: "cai-reward-model",
      version: 1,
      base: path.resolve(base),
      adapter: "adapter.gguf",
      head: "head.safetensors",
      architecture: "llama",
      dim: weights.config.embeddingLength,
      lora: { rank: 4, alpha: 8, targets: [...lora.targets] },
      endOfTurn: [...tokenizer.endOfTurn],
      settings: { steps: 30 },
    });
    expect(manifest.metrics).toMatchObject({ pairs: 2, accuracy: 1 });
    expect(manifest.metrics.expectedCalibrationError).toBeGreaterThanOrEqual(0);
  });

  it("loads from reward:DIR and scores conversations as the trainer does, preferring the trained side", async () => {
    const model = await createRewardModel(`reward:${dir}`);
    try {
      const question = "how is the rain today";
      const good = conversation(question, polite("rain"));
      const bad = conversation(question, curt());
      const scores = [await model.score(good), await model.score(bad)];
      const trainer = tf.tidy(() =>
        Array.from(
          rewardScores(weights, lora, head, [
            rewardSequence(tokenizer.renderer, good, tokenizer.endOfTurn),
            rewardSequence(tokenizer.renderer, bad, tokenizer.endOfTurn),
          ]).dataSync(),
        ),
      );
      scores.forEach((s, i) => {
        expect(Math.abs(s - (trainer[i] as number))).toBeLessThanOrEqual(1e-5);
      });
      expect(scores[0]).toBeGreaterThan(scores[1] as number);
      const many = (await model.scoreMany?.([good, bad])) ?? [];
      many.forEach((s, i) => {
        expect(Math.abs(s - (scores[i] as number))).toBeLessThanOrEqual(1e-5);
      });
      expect(model.fingerprint).toMatch(/^reward\|/);
      await expect(model.score([{ role: "user", content: "hi" }])).rejects.toThrow(/assistant message/);
    } finally {
      await model.close();
    }
  });

  it("names the file and the field of a missing or malformed reward.json", async () => {
    const empty = await mkdtemp(path.join(await testFolder(), "reward-bad-"));
    const missing = await createRewardModel(`reward:${empty}`).catch((error: unknown) => error);
    expect(InputFileError.isInstance(missing)).toBe(true);
    expect(String(missing)).toContain(path.join(empty, rewardManifestFile));

    const manifest = JSON.parse(await readFile(path.join(dir, rewardManifestFile), "utf8"));
    const broken = async (value: unknown): Promise<InputFileError> => {
      await writeFile(path.join(empty, rewardManifestFile), JSON.stringify(value));
      const error = await createRewardModel(`reward:${empty}`).catch((e: unknown) => e);
      if (!InputFileError.isInstance(error))
        throw new Error(`expected an InputFileError, got ${String(error)}`);
      expect(error.file).toBe(path.join(empty, rewardManifestFile));
      return error;
    };
    expect((await broken({ ...manifest, version: 2 })).field).toBe("version");
    expect((await broken({ ...manifest, dim: "64" })).field).toBe("dim");
    expect((await broken({ ...manifest, head: "../head.safetensors" })).field).toBe("head");
    const { lora: _, ...withoutLora } = manifest;
    expect((await broken(withoutLora)).field).toBe("lora");
    await writeFile(path.join(empty, rewardManifestFile), "{ not json");
    await expect(createRewardModel(`reward:${empty}`)).rejects.toThrow(/reward\.json: is not JSON/);
  });

  it("parses reward:DIR specs", () => {
    expect(parseRewardSpec("reward:/models/rm?batch=2")).toEqual({
      provider: "reward",
      dir: "/models/rm",
      options: { batch: "2" },
    });
    expect(() => parseRewardSpec("llama:m.gguf")).toThrow(ModelSpecError);
    expect(() => parseRewardSpec("reward:")).toThrow(/directory is missing/);
    expect(() => parseRewardSpec("reward:d?threads=2")).toThrow(/unknown reward model option threads/);
  });
});
