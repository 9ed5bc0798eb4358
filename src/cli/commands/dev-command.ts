// `cai dev …`: developer tools — generated test models and random LoRA adapters.
import type { Command } from "commander";
import { CaiError } from "../../errors/cai-error.js";
import { makeRandomLora } from "../../gguf/test-models/make-lora.js";
import { makeTestModel } from "../../gguf/test-models/make-model.js";
import { type PresetName, presetNames } from "../../gguf/test-models/presets.js";
import { intFlag, runAction } from "../run-action.js";

const types = ["f32", "f16", "q8_0"] as const;

/** Registers `cai dev make-model` and `cai dev make-lora`. */
export function registerDevCommand(program: Command): void {
  const dev = program.command("dev").description("developer tools: generated test models and adapters");
  dev
    .command("make-model")
    .description(
      "write a llama-architecture GGUF with seeded random weights, an SPM tokenizer and a ChatML template",
    )
    .requiredOption("--out <file>", "where to write the .gguf file")
    .option("--preset <name>", `model shape: ${presetNames.join(", ")}`, "tiny")
    .option("--type <type>", `weight type: ${types.join(", ")}`, "f32")
    .option("--seed <n>", "random seed", intFlag("--seed"), 0)
    .action(
      runAction(async (flags: { out: string; preset: string; type: string; seed: number }) => {
        if (!(presetNames as readonly string[]).includes(flags.preset)) {
          throw new CaiError(`--preset must be one of ${presetNames.join(", ")}, got "${flags.preset}"`);
        }
        if (!(types as readonly string[]).includes(flags.type.toLowerCase())) {
          throw new CaiError(`--type must be one of ${types.join(", ")}, got "${flags.type}"`);
        }
        const type = flags.type.toUpperCase() as "F32" | "F16" | "Q8_0";
        const started = performance.now();
        const { parameters } = await makeTestModel({
          preset: flags.preset as PresetName,
          type,
          seed: flags.seed,
          out: flags.out,
        });
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(
          `wrote ${flags.out}: ${flags.preset}, ${type}, ${parameters.toLocaleString("en")} parameters, ${seconds} s`,
        );
      }),
    );
  dev
    .command("make-lora")
    .description("write a LoRA adapter with random weights for a base GGUF model")
    .requiredOption("--base <file>", "the base model (.gguf)")
    .requiredOption("--out <file>", "where to write the adapter (.gguf); use a new path for every adapter")
    .option("--rank <r>", "LoRA rank", intFlag("--rank", 1), 8)
    .option("--alpha <a>", "LoRA alpha (default: the rank)")
    .option("--seed <n>", "random seed", intFlag("--seed"), 0)
    .action(
      runAction(async (flags: { base: string; out: string; rank: number; alpha?: string; seed: number }) => {
        const alpha = flags.alpha === undefined ? undefined : Number(flags.alpha);
        if (alpha !== undefined && !Number.isFinite(alpha))
          throw new CaiError(`--alpha must be a number, got "${flags.alpha}"`);
        const { tensors } = await makeRandomLora({
          base: flags.base,
          rank: flags.rank,
          seed: flags.seed,
          out: flags.out,
          ...(alpha !== undefined ? { alpha } : {}),
        });
        console.log(`wrote ${flags.out}: rank ${flags.rank}, ${tensors} tensors`);
      }),
    );
}
