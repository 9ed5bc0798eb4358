// A planned stage's command line: references replaced by models, the seed, matrix values and earlier
// stages' outputs found in their run directories (the newest adapter, as `ls … | tail -1` would).
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseStructuredText } from "../io/structured-file.js";
import { planPipeline } from "./pipeline-plan.js";
import { stageCommand, stageOutputs } from "./stage-command.js";

const text = `models:
  policy: llama:base.gguf
seed: 3
stages:
  revise:
    kind: revise
    model: \${models.policy}
    rounds: 2
  data:
    kind: export
    run-dir: \${stages.revise.run}
  sl_cai:
    kind: sft
    for_each:
      steps: [10, 20]
    base: base.gguf
    data: \${stages.data.sft}
    steps: \${each.steps}
    seed: \${seed}
    merge: true
  judge:
    kind: eval
    model: ["\${models.policy}", "llama:base.gguf+\${stages.sl_cai.adapter}"]
    judge: \${models.policy}
  one:
    kind: respond
    model: llama:\${stages.sl_cai.model}
`;

describe("stageCommand", () => {
  it("replaces references with values and outputs, one per value of a for_each stage where a list takes them", async () => {
    const plan = await planPipeline(parseStructuredText("p.yaml", text));
    const dir = await mkdtemp(path.join(os.tmpdir(), "cai-stage-command-"));
    const outputs = new Map<string, Record<string, string>>();
    const ran = async (id: string, files: string[]) => {
      const out = path.join(dir, id);
      await mkdir(out, { recursive: true });
      for (const f of files) await writeFile(path.join(out, f), "");
      const stage = plan.stages.find((s) => s.id === id);
      if (!stage) throw new Error(`no stage ${id}`);
      outputs.set(id, stageOutputs(stage.kind, out));
      return out;
    };
    const context = { plan, outputs };
    const [revise, data, sft10, , judge, one] = plan.stages;
    if (!revise || !data || !sft10 || !judge || !one) throw new Error("the plan lacks a stage");
    expect(await stageCommand(revise, "R", context)).toEqual([
      "revise",
      "--model",
      "llama:base.gguf",
      "--rounds",
      "2",
      "--out",
      "R",
    ]);
    const reviseDir = await ran("revise", []);
    expect(await stageCommand(data, "D", context)).toEqual(["export", reviseDir, "--out", "D"]);
    const dataDir = await ran("data", ["sft.train.jsonl", "preference.train.jsonl"]);
    expect(await stageCommand(sft10, "S", context)).toEqual([
      "train",
      "sft",
      "--base",
      "base.gguf",
      "--data",
      path.join(dataDir, "sft.train.jsonl"),
      "--steps",
      "10",
      "--seed",
      "3",
      "--merge",
      "--out",
      "S",
    ]);
    await expect(stageCommand(judge, "E", context)).rejects.toThrow(
      /needs adapter of stage sl_cai-10, which has not run/,
    );
    const older = "adapter-step000010-20261203T100000Z.gguf";
    const newer = "adapter-step000010-20261203T110000Z.gguf";
    const sft10Dir = await ran("sl_cai-10", [older, newer, "model-step000010-20261203T110000Z.gguf"]);
    const sft20Dir = await ran("sl_cai-20", ["adapter-step000020-20261203T120000Z.gguf"]);
    expect(await stageCommand(judge, "E", context)).toEqual([
      "eval",
      "--model",
      "llama:base.gguf",
      "--model",
      `llama:base.gguf+${path.join(sft10Dir, newer)}`,
      "--model",
      `llama:base.gguf+${path.join(sft20Dir, "adapter-step000020-20261203T120000Z.gguf")}`,
      "--judge",
      "llama:base.gguf",
      "--out",
      "E",
    ]);
    // respond's --model is a list, one per value of sl_cai; sl_cai-20's directory holds no model file.
    await expect(stageCommand(one, "O", context)).rejects.toThrow(
      /needs model of stage sl_cai-20, which wrote none/,
    );
  });
});
