// Flags of the commands that take `--prompts` files (`cai revise`, `cai respond`, `cai eval`): the split,
// what kind and category a file's rows are when they do not say, and the note that tells what was filled in.
import { Option } from "commander";
import type { PromptFileOptions, PromptFileReading } from "../data/prompt-file.js";
import { type PromptKind, promptKinds } from "../data/prompt-set.js";

/** Values of the prompt-file flags. */
export interface PromptFileFlags {
  promptKind?: PromptKind;
  promptCategory?: string;
}

/** `--split`: which part of the prompt sets a stage works on (commander refuses any other value). */
export function splitOption(defaultSplit: "train" | "test"): Option {
  return new Option("--split <split>", "train, test or all")
    .choices(["train", "test", "all"])
    .default(defaultSplit);
}

/** `--prompt-kind`: the kind of a `--prompts` file's rows that do not say. */
export function promptKindOption(): Option {
  return new Option(
    "--prompt-kind <kind>",
    "kind of the prompts in a --prompts file whose rows do not say (default: red-team)",
  ).choices(promptKinds);
}

/** `--prompt-category`: the category of a `--prompts` file's rows that do not say. */
export function promptCategoryOption(): Option {
  return new Option(
    "--prompt-category <name>",
    "category of the prompts in a --prompts file whose rows do not say (default: the file's name)",
  );
}

/**
 * One line on stderr saying how a file of rows as people have them was read, and (with `flags`) which
 * flags change what was filled in.
 */
export function describeReading(reading: PromptFileReading, { flags = true } = {}): string {
  const filled = [
    reading.filledKind ? `kind ${reading.kind}${flags ? " (--prompt-kind)" : ""}` : undefined,
    reading.filledCategory ? `category ${reading.category}${flags ? " (--prompt-category)" : ""}` : undefined,
  ].filter(Boolean);
  const dropped = reading.duplicatesDropped > 0 ? `, ${reading.duplicatesDropped} repeated left out` : "";
  return (
    `note: ${reading.file}: ${reading.prompts} prompts read as \`cai prompts import\` would` +
    `${filled.length > 0 ? `, ${filled.join(", ")}` : ""}, ids from the text where rows have none${dropped}; ` +
    `split by id: ${reading.train} train, ${reading.test} test${flags ? " (--split all takes both)" : ""}`
  );
}

/** The options of selectPrompts for files, from the flags; the reading is noted on stderr. */
export function promptFileOptions(flags: PromptFileFlags): PromptFileOptions {
  return {
    ...(flags.promptKind === undefined ? {} : { kind: flags.promptKind }),
    ...(flags.promptCategory === undefined ? {} : { category: flags.promptCategory }),
    onRead: (reading) => console.error(describeReading(reading)),
  };
}
