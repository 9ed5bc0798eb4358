// `cai prompts import|validate|show`: bring others' prompt files into cai's format, check a prompt set,
// and look inside one (the built-in `red-team` and `helpful` sets, or a file).
import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { isBuiltinPromptSetName, resolvePromptSetFile } from "../../data/builtin-prompt-sets.js";
import { parseFieldPath } from "../../data/field-path.js";
import {
  type ImportPromptsOptions,
  importPrompts,
  type PromptFileFormat,
  promptFileFormats,
} from "../../data/importers/import-prompts.js";
import { loadPromptFile } from "../../data/prompt-file.js";
import {
  loadPromptSet,
  type PromptKind,
  type PromptRecord,
  promptKinds,
  writePromptSet,
} from "../../data/prompt-set.js";
import { countByCategory } from "../../data/prompt-set-stats.js";
import type { PromptSplit } from "../../data/split.js";
import { describeReading } from "../prompt-flags.js";
import { intFlag, runAction } from "../run-action.js";
import { UsageError } from "../usage-error.js";

interface ImportFlags {
  format: PromptFileFormat;
  kind: PromptKind;
  category?: string;
  out: string;
  source?: string;
  turns: "first" | "context";
  promptColumn?: string;
  idColumn?: string;
  categoryColumn?: string;
  delimiter?: string;
  field?: string;
  idField?: string;
  categoryField?: string;
}

interface ShowFlags {
  split?: PromptSplit;
  category?: string;
  limit: number;
}

/** Flags that belong to one format only, so a flag given for the wrong format is reported, not ignored. */
const formatFlags: Record<PromptFileFormat, Array<keyof ImportFlags>> = {
  "hh-rlhf": [],
  csv: ["promptColumn", "idColumn", "categoryColumn", "delimiter"],
  jsonl: ["field", "idField", "categoryField"],
};

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function fieldPathFlag(value: string): string {
  try {
    parseFieldPath(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  return value;
}

function delimiterFlag(value: string): string {
  return value === "tab" || value === "\\t" ? "\t" : value;
}

/** The importer options the flags ask for, or a UsageError saying which flag is misplaced. */
function importOptions(flags: ImportFlags): ImportPromptsOptions {
  for (const [format, keys] of Object.entries(formatFlags)) {
    const misplaced = keys.find((key) => format !== flags.format && flags[key] !== undefined);
    if (misplaced)
      throw new UsageError(`${flagName(misplaced)} applies to --format ${format}, not ${flags.format}`);
  }
  const common = {
    kind: flags.kind,
    ...(flags.category === undefined ? {} : { category: flags.category }),
    ...(flags.source === undefined ? {} : { source: flags.source }),
  };
  switch (flags.format) {
    case "hh-rlhf":
      return { format: "hh-rlhf", ...common, turns: flags.turns };
    case "csv":
      return {
        format: "csv",
        ...common,
        ...(flags.promptColumn === undefined ? {} : { promptColumn: flags.promptColumn }),
        ...(flags.idColumn === undefined ? {} : { idColumn: flags.idColumn }),
        ...(flags.categoryColumn === undefined ? {} : { categoryColumn: flags.categoryColumn }),
        ...(flags.delimiter === undefined ? {} : { delimiter: flags.delimiter }),
      };
    case "jsonl":
      return {
        format: "jsonl",
        ...common,
        ...(flags.field === undefined ? {} : { field: flags.field }),
        ...(flags.idField === undefined ? {} : { idField: flags.idField }),
        ...(flags.categoryField === undefined ? {} : { categoryField: flags.categoryField }),
      };
  }
}

/** `red-team (…/red-team.jsonl)` for a built-in set, the path otherwise. */
function describeSet(name: string, file: string): string {
  return file === name ? file : `${name} (${path.relative(process.cwd(), file) || file})`;
}

function splitCounts(records: readonly PromptRecord[]): string {
  const test = records.filter((record) => record.split === "test").length;
  return `${records.length - test} train, ${test} test`;
}

function printCounts(records: readonly PromptRecord[]): void {
  const counts = countByCategory(records);
  const width = Math.max("category".length, ...counts.map(({ category }) => category.length)) + 2;
  const row = (label: string, train: number | string, test: number | string, total: number | string) =>
    console.log(
      `${label.padEnd(width)}${String(train).padStart(6)}${String(test).padStart(6)}${String(total).padStart(7)}`,
    );
  row("category", "train", "test", "total");
  for (const { category, train, test } of counts) row(category, train, test, train + test);
  const test = records.filter((record) => record.split === "test").length;
  row("total", records.length - test, test, records.length);
}

/** Up to `limit` records taking each category's next prompt in turn, so a few show the set's range. */
function acrossCategories(records: readonly PromptRecord[], limit: number): PromptRecord[] {
  const queues = new Map<string, PromptRecord[]>();
  for (const record of records) queues.set(record.category, [...(queues.get(record.category) ?? []), record]);
  const picked: PromptRecord[] = [];
  for (let round = 0; picked.length < Math.min(limit, records.length); round += 1)
    for (const queue of queues.values()) {
      const record = queue[round];
      if (record && picked.length < limit) picked.push(record);
    }
  return picked;
}

function printPrompt(record: PromptRecord): void {
  const tags = [record.split, record.category, record.style].filter(Boolean).join(", ");
  console.log(`\n${record.id} [${tags}]`);
  const indent = (text: string) => text.replace(/\n/g, "\n    ");
  if (typeof record.prompt === "string") console.log(`  ${indent(record.prompt)}`);
  else for (const { role, content } of record.prompt) console.log(`  ${role}: ${indent(content)}`);
}

/** Registers `cai prompts import`, `cai prompts validate` and `cai prompts show`. */
export function registerPromptsCommand(program: Command): void {
  const prompts = program.command("prompts").description("prompt sets: import others' files, validate, show");

  prompts
    .command("import")
    .description("convert an hh-rlhf, CSV/TSV or JSONL file (optionally .gz) into a cai prompt set")
    .argument("<file>", "the file to import")
    .addOption(
      new Option("--format <format>", "the file's format").choices(promptFileFormats).makeOptionMandatory(),
    )
    .addOption(
      new Option("--kind <kind>", "what the prompts are for, where a row does not say")
        .choices(promptKinds)
        .default("red-team"),
    )
    .option("--category <name>", "category of the prompts whose row has none (default: the file's name)")
    .requiredOption("--out <file>", "the prompt set to write (.jsonl or .jsonl.gz)")
    .option("--source <name>", "recorded as each prompt's source (default: the file's name)")
    .addOption(
      new Option(
        "--turns <turns>",
        "hh-rlhf: the first human turn, or the conversation before the last answer",
      )
        .choices(["first", "context"])
        .default("first"),
    )
    .option(
      "--prompt-column <name>",
      "csv: header of the prompt column (default: prompt, question, instruction, goal, forbidden_prompt or text)",
    )
    .option("--id-column <name>", "csv: header of an id column")
    .option("--category-column <name>", "csv: header of a category column")
    .option(
      "--delimiter <char>",
      "csv: field separator, `tab` for tabs (default: from the extension)",
      delimiterFlag,
    )
    .option(
      "--field <path>",
      "jsonl: path of the prompt, e.g. conversation.0.content (default: prompt, messages, question, goal, … found by name)",
      fieldPathFlag,
    )
    .option("--id-field <path>", "jsonl: path of an id", fieldPathFlag)
    .option("--category-field <path>", "jsonl: path of a category", fieldPathFlag)
    .action(
      runAction(async (file: string, flags: ImportFlags) => {
        if (path.resolve(flags.out) === path.resolve(file))
          throw new UsageError("--out is the file being imported; write the prompt set somewhere else");
        const { records, duplicatesDropped } = await importPrompts(file, importOptions(flags));
        await writePromptSet(flags.out, records);
        const categories = countByCategory(records).length;
        const dropped = duplicatesDropped > 0 ? `; ${duplicatesDropped} repeated prompts left out` : "";
        const kinds = [...new Set(records.map((record) => record.kind))].join(" and ");
        console.log(
          `wrote ${records.length} ${kinds} prompts in ${categories} ${categories === 1 ? "category" : "categories"} to ${flags.out} (${splitCounts(records)}${dropped})`,
        );
      }),
    );

  prompts
    .command("validate")
    .description("check a prompt set file: JSON, fields, unique ids; exits with 2 and the place if not")
    .argument("<file>", "a prompt set (.jsonl or .jsonl.gz), or red-team / helpful")
    .action(
      runAction(async (name: string) => {
        const file = resolvePromptSetFile(name);
        const records = await loadPromptSet(file);
        const categories = countByCategory(records).length;
        console.log(
          `${describeSet(name, file)}: ${records.length} prompts valid, ${categories} ${categories === 1 ? "category" : "categories"} (${splitCounts(records)})`,
        );
      }),
    );

  prompts
    .command("show")
    .description("counts by category and split, then a few prompts from across the categories")
    .argument("<set>", "red-team, helpful, or a file as --prompts reads it (a prompt set, JSONL rows, CSV)")
    .addOption(new Option("--split <split>", "only this split").choices(["train", "test"]))
    .option("--category <name>", "only this category")
    .option("--limit <n>", "how many prompts to print", intFlag("--limit", 0), 5)
    .action(
      runAction(async (name: string, flags: ShowFlags) => {
        const file = resolvePromptSetFile(name);
        // As `--prompts` reads it: also a file of rows as people have them, with a note on what was filled in.
        const all = isBuiltinPromptSetName(name)
          ? await loadPromptSet(file)
          : await loadPromptFile(file, {
              onRead: (reading) => console.error(describeReading(reading, { flags: false })),
            });
        const records = all.filter(
          (record) =>
            (flags.split === undefined || record.split === flags.split) &&
            (flags.category === undefined || record.category === flags.category),
        );
        const filters = [flags.split, flags.category && `category ${flags.category}`]
          .filter(Boolean)
          .join(", ");
        console.log(
          `${describeSet(name, file)}: ${records.length} of ${all.length} prompts${filters ? ` (${filters})` : ""}\n`,
        );
        if (records.length === 0) {
          const known = countByCategory(all).map(({ category }) => category);
          console.log(`no prompts match; the categories are: ${known.join(", ")}`);
          return;
        }
        printCounts(records);
        for (const record of acrossCategories(records, flags.limit)) printPrompt(record);
      }),
    );
}
