// What a planned stage becomes when it runs: its outputs, found in its run directory once it has run
// (the newest `adapter-step…gguf`, as `ls … | tail -1` finds it by hand), and its command line, with every
// `${…}` reference replaced by the value it names.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { CaiError } from "../errors/cai-error.js";
import type { PipelinePlan, PlannedStage, Reference, SettingValue } from "./pipeline-plan.js";
import { type StageKindName, stageKinds, stageSettings } from "./stage-kinds.js";

/** The newest entry of `dir` whose name starts with `prefix` (names sort by step, then time). */
function newest(dir: string, prefix: string, suffix: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && n.endsWith(suffix))
    .sort();
  const last = names.at(-1);
  return last === undefined ? undefined : path.join(dir, last);
}

/** Where each output of a `kind` stage that ran in `dir` is (outputs it did not write are left out). */
export function stageOutputs(kind: StageKindName, dir: string): Record<string, string> {
  const found: Record<string, string | undefined> = {};
  const file = (name: string) => (existsSync(path.join(dir, name)) ? path.join(dir, name) : undefined);
  if (kind === "revise") found.run = dir;
  if (kind === "export") {
    found.dir = dir;
    found.sft = file("sft.train.jsonl");
    found.preference = file("preference.train.jsonl");
  }
  if (kind === "sft" || kind === "dpo" || kind === "rl") found.adapter = newest(dir, "adapter-", ".gguf");
  if (kind === "sft") found.model = newest(dir, "model-", ".gguf");
  if (kind === "rm") found.reward = newest(dir, "reward-", "");
  if (kind === "respond") found.responses = file("responses.jsonl");
  if (kind === "label") found.preferences = file("preferences.jsonl");
  if (kind === "eval") found.report = file("report");
  return Object.fromEntries(Object.entries(found).filter((e): e is [string, string] => e[1] !== undefined));
}

/** What references resolve against: the plan, and the outputs of the stages that have run. */
export interface RunContext {
  readonly plan: PipelinePlan;
  /** Outputs by planned stage id. */
  readonly outputs: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** The planned ids a stage reference names: one stage, or every value of a `for_each` stage. */
function referencedStages(plan: PipelinePlan, name: string): string[] {
  const exact = plan.stages.filter((s) => s.id === name);
  return exact.length > 0 ? [name] : plan.stages.filter((s) => s.source === name).map((s) => s.id);
}

/** The value of one reference for `stage` (a `for_each` stage's output: one per value). */
function referenceValues(reference: Reference, stage: PlannedStage, context: RunContext): string[] {
  const { config } = context.plan;
  switch (reference.to) {
    case "seed":
      return [String(config.seed)];
    case "constitution":
      return [config.constitution ?? ""];
    case "model":
      return [config.models[reference.name] ?? ""];
    case "prompts":
      return [config.prompts[reference.name] ?? ""];
    case "each":
      return [String(stage.each[reference.name])];
    case "stage":
      return referencedStages(context.plan, reference.stage).map((id) => {
        const output = context.outputs.get(id)?.[reference.output];
        if (output === undefined)
          throw new CaiError(
            `stage ${stage.id} needs ${reference.output} of stage ${id}, which ${context.outputs.has(id) ? `wrote none (outputs: ${Object.keys(context.outputs.get(id) ?? {}).join(", ") || "none"})` : "has not run"}`,
          );
        return output;
      });
  }
}

/** A setting's value with its references replaced: one value, or several for a `for_each` stage's output. */
export function resolveValue(value: SettingValue, stage: PlannedStage, context: RunContext): string[] {
  if (typeof value.raw !== "string") return [String(value.raw)];
  let results = [""];
  let rest = value.raw;
  for (const reference of value.references) {
    const at = rest.search(/\$\{[^}]*\}/);
    const whole = rest.slice(at).match(/^\$\{[^}]*\}/)?.[0] ?? "";
    const before = rest.slice(0, at);
    const values = referenceValues(reference, stage, context);
    results = results.flatMap((r) => values.map((v) => `${r}${before}${v}`));
    rest = rest.slice(at + whole.length);
  }
  return results.map((r) => `${r}${rest}`);
}

/** The `cai` arguments that run `stage` in run directory `out`. */
export async function stageCommand(stage: PlannedStage, out: string, context: RunContext): Promise<string[]> {
  const settings = await stageSettings(stage.kind);
  const positional: string[] = [];
  const flags: string[] = [];
  for (const setting of settings) {
    const given = stage.settings[setting.name];
    if (given === undefined) continue;
    const values = given.flatMap((v) => resolveValue(v, stage, context));
    if (setting.type === "flag") {
      if (values[0] === "true") flags.push(`--${setting.name}`);
      continue;
    }
    if (setting.type === "value" && values.length !== 1)
      throw new CaiError(
        `stage ${stage.id}: ${setting.name} takes one value; it names ${values.length} (a for_each stage's output: name one value, e.g. ${stage.id}-…)`,
      );
    if (setting.position === undefined) for (const v of values) flags.push(`--${setting.name}`, v);
    else positional.push(...values);
  }
  return [...stageKinds[stage.kind].command, ...positional, ...flags, "--out", out];
}
