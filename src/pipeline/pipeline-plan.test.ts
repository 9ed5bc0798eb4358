// Planning a pipeline file: `for_each` stages expand, references become dependencies, the graph prints;
// and every kind of config error is one InputFileError naming the line:column and the field, before
// anything runs.
import { describe, expect, it } from "vitest";
import { InputFileError } from "../errors/input-file-error.js";
import { parseStructuredText } from "../io/structured-file.js";
import { graphMermaid, graphText } from "./pipeline-graph.js";
import { planPipeline } from "./pipeline-plan.js";

const loop = `models:
  policy: llama:models/tiny.gguf
prompts:
  red: red-team
seed: 3
stages:
  revise:
    kind: revise
    model: \${models.policy}
    prompts: \${prompts.red}
    rounds: 2
  data:
    kind: export
    run-dir: \${stages.revise.run}
  sl_cai:
    kind: sft
    for_each:
      steps: [10, 20]
    base: models/tiny.gguf
    data: \${stages.data.sft}
    steps: \${each.steps}
    seed: \${seed}
  respond:
    kind: respond
    model:
      - \${models.policy}
      - llama:models/tiny.gguf+\${stages.sl_cai-20.adapter}
    prompts: [red-team, helpful]
  judge:
    kind: eval
    model: ["\${models.policy}", "llama:models/tiny.gguf+\${stages.sl_cai.adapter}"]
    judge: \${models.policy}
`;

const plan = (text: string) => planPipeline(parseStructuredText("pipeline.yaml", text));

/** The error planning `text` throws. */
async function failure(text: string): Promise<InputFileError> {
  const error = await plan(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!InputFileError.isInstance(error)) throw new Error(`expected an InputFileError, got ${String(error)}`);
  return error;
}

describe("planPipeline", () => {
  it("expands for_each stages and turns references into dependencies, in file order", async () => {
    const planned = await plan(loop);
    expect(planned.config.seed).toBe(3);
    expect(planned.stages.map((s) => [s.id, s.kind, s.dependsOn])).toEqual([
      ["revise", "revise", []],
      ["data", "export", ["revise"]],
      ["sl_cai-10", "sft", ["data"]],
      ["sl_cai-20", "sft", ["data"]],
      ["respond", "respond", ["sl_cai-20"]],
      ["judge", "eval", ["sl_cai-10", "sl_cai-20"]],
    ]);
    const sft = planned.stages[2];
    expect(sft?.each).toEqual({ steps: 10 });
    expect(sft?.settings.steps).toEqual([
      { raw: "${each.steps}", references: [{ to: "each", name: "steps" }] },
    ]);
    expect(planned.stages[4]?.settings.prompts?.map((v) => v.raw)).toEqual(["red-team", "helpful"]);
    expect(graphText(planned)).toEqual([
      "revise (revise)",
      "data (export)      ← revise",
      "sl_cai-10 (sft)    ← data",
      "sl_cai-20 (sft)    ← data",
      "respond (respond)  ← sl_cai-20",
      "judge (eval)       ← sl_cai-10, sl_cai-20",
    ]);
    expect(graphMermaid(planned)).toContain("  s_sl_cai_20 --> s_respond\n");
  });

  it.each([
    [
      "an unknown stage kind",
      loop.replace("kind: export", "kind: exprot"),
      /^pipeline\.yaml:13:\d+ \(stages\.data\.kind\): kind must be one of revise, export, sft/,
    ],
    [
      "an unknown setting (at its key)",
      loop.replace("    rounds: 2", "    rounds: 2\n    temprature: 1"),
      /^pipeline\.yaml:12:5 \(stages\.revise\.temprature\): .*temprature/,
    ],
    [
      "a wrong type",
      loop.replace("    rounds: 2", "    rounds: [1, 2]"),
      /^pipeline\.yaml:11:\d+ \(stages\.revise\.rounds\): /,
    ],
    [
      "a value the command's parser refuses",
      loop.replace("    rounds: 2", "    rounds: -1"),
      /^pipeline\.yaml:11:13 \(stages\.revise\.rounds\): .*--rounds/,
    ],
    [
      "a required setting left out",
      loop.replace("    data: ${stages.data.sft}\n", ""),
      /^pipeline\.yaml:\d+:\d+ \(stages\.sl_cai\): data is required: .*cai train sft --data/,
    ],
    [
      "a reference to a stage that does not exist",
      loop.replace("${stages.revise.run}", "${stages.revize.run}"),
      /^pipeline\.yaml:14:14 \(stages\.data\.run-dir\): \$\{stages\.revize\.run\}: no stage revize \(stages: revise, data/,
    ],
    [
      "a reference to a stage that comes later",
      loop.replace("${stages.revise.run}", "${stages.respond.responses}"),
      /\(stages\.data\.run-dir\): .*stage respond comes later/,
    ],
    [
      "a cycle (a stage taking its own output)",
      loop.replace("${stages.revise.run}", "${stages.data.sft}"),
      /\(stages\.data\.run-dir\): .*its own output \(a cycle\)/,
    ],
    [
      "an output the stage kind does not have",
      loop.replace("${stages.data.sft}", "${stages.data.model}"),
      /\(stages\.sl_cai\.data\): .*export stages have no output model \(outputs: sft, preference, dir\)/,
    ],
    [
      "an unknown model, in a list item",
      loop.replace("      - ${models.policy}", "      - ${models.critic}"),
      /^pipeline\.yaml:26:9 \(stages\.respond\.model\[0\]\): .*no model critic \(models: policy\)/,
    ],
    [
      "a for_each stage's outputs where one value goes",
      loop.replace(
        "    judge: ${models.policy}",
        "    judge: llama:models/tiny.gguf+${stages.sl_cai.adapter}",
      ),
      /\(stages\.judge\.judge\): .*takes one value, and sl_cai runs once per value of its for_each; name one \(sl_cai-10, sl_cai-20\)/,
    ],
    [
      "a matrix value outside a for_each stage",
      loop.replace("    rounds: 2", "    rounds: ${each.rounds}"),
      /\(stages\.revise\.rounds\): .*no for_each variable rounds/,
    ],
  ])("%s: one error with its line:column and field", async (_name, text, message) => {
    const error = await failure(text);
    expect(error.message).toMatch(message);
  });
});
