// `cai models check SPEC`: a newcomer's first smoke test of a model — it loads, it talks, it scores.
// `cai models score reward:DIR --data JSONL`: a reward model's score of every conversation in a file.
import type { Command } from "commander";
import { readJsonLines } from "../../data/jsonl-file.js";
import { createModel } from "../../models/create-model.js";
import type { LanguageModel } from "../../models/model.js";
import { sftConversationOf } from "../../train/data/chat-rows.js";
import { createRewardModel } from "../../train/reward/reward-spec.js";
import { addModelFlags, callCacheFromFlags, type ModelFlags, modelOptionsFromFlags } from "../model-flags.js";
import { runAction } from "../run-action.js";

/** The multiple-choice question `models check` scores, as AI feedback will. */
export const checkQuestion = {
  messages: [
    {
      role: "user" as const,
      content:
        "Which of these is a primary colour?\n(A) red\n(B) banana\nAnswer with the letter of the option.",
    },
  ],
  assistantPrefix: "The answer is: (",
};

/** Registers `cai models check`. */
export function registerModelsCommand(program: Command): void {
  const models = program.command("models").description("load and try models");
  addModelFlags(
    models
      .command("check")
      .description("load a model and print its backend, context, capabilities, a completion and P(A) vs P(B)")
      .argument(
        "<spec>",
        "llama:FILE.gguf[+ADAPTER.gguf], llama:hf:REPO:QUANT, openai:MODEL or anthropic:MODEL",
      ),
  ).action(
    runAction(async (spec: string, flags: ModelFlags) => {
      const started = performance.now();
      const cache = callCacheFromFlags(flags);
      const model = await createModel(spec, { ...modelOptionsFromFlags(flags), ...(cache ? { cache } : {}) });
      try {
        const loaded = (performance.now() - started) / 1000;
        const rows = await describe(model, loaded);
        rows.push([
          "cache",
          cache ? `${cache.stats.hits} hits, ${cache.stats.misses} misses (${cache.file})` : "off",
        ]);
        for (const [label, value] of rows) console.log(`${label.padEnd(13)}${value}`);
      } finally {
        await model.close?.();
        cache?.close();
      }
    }),
  );
  models
    .command("score")
    .description("score conversations with a reward model (cai train rm): one JSON line per conversation")
    .argument("<spec>", "reward:DIR, a directory written by cai train rm")
    .requiredOption(
      "--data <jsonl>",
      "conversations ({messages: [...]}), each ending with an assistant message",
    )
    .action(
      runAction(async (spec: string, flags: { data: string }) => {
        const rows = await readJsonLines(flags.data);
        const conversations = rows.map(({ line, value }) => ({
          line,
          messages: sftConversationOf(flags.data, line, value),
        }));
        const model = await createRewardModel(spec);
        try {
          for (const { line, messages } of conversations)
            console.log(JSON.stringify({ line, score: await model.score(messages) }));
        } finally {
          await model.close();
        }
      }),
    );
}

async function describe(model: LanguageModel, loadSeconds: number): Promise<Array<[string, string]>> {
  const info = await model.info?.();
  const caps = model.capabilities;
  const rows: Array<[string, string]> = [
    ["backend", model.provider],
    ["model", model.modelId],
    ["loaded in", `${loadSeconds.toFixed(2)} s`],
    ["context", info?.contextSize ? `${info.contextSize} tokens` : "unknown"],
    [
      "capabilities",
      [
        "generate",
        caps.scoreChoices ? `scoreChoices (${caps.scoreChoices})` : "",
        caps.logLikelihood ? "logLikelihood" : "",
        caps.generateLogprobs ? "generateLogprobs" : "",
      ]
        .filter(Boolean)
        .join(", "),
    ],
  ];
  for (const [key, value] of Object.entries(info?.details ?? {})) rows.push([key, String(value)]);
  const started = performance.now();
  const completion = await model.generate({
    messages: [{ role: "user", content: "Say hello in one short sentence." }],
    maxTokens: 24,
    temperature: 0,
  });
  const seconds = (performance.now() - started) / 1000;
  rows.push([
    "completion",
    `${JSON.stringify(completion.text)} (${completion.usage.outputTokens} tokens, ${seconds.toFixed(2)} s, ${completion.finishReason})`,
  ]);
  if (model.scoreChoices && caps.scoreChoices) {
    const scores = await model.scoreChoices({ prompt: checkQuestion, choices: ["A", "B"] });
    const [a = 0, b = 0] = scores.probabilities;
    rows.push(["P(A) vs P(B)", `${a.toFixed(4)} vs ${b.toFixed(4)} (${scores.method})`]);
  } else {
    rows.push(["P(A) vs P(B)", "not available: this backend gives no log-probabilities"]);
  }
  return rows;
}
