// `cai constitution validate|show|import`: check a constitution file, look at one, or convert one written
// for another tool (the CAI paper's prompt files, llm-swarm, LangChain) into cai's YAML.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import type { Constitution } from "../../constitution/constitution-schema.js";
import { constitutionToYaml } from "../../constitution/constitution-yaml.js";
import {
  type ImportFormat,
  importConstitution,
  importFormats,
} from "../../constitution/importers/import-constitution.js";
import { constitutionJsonSchemaPath } from "../../constitution/json-schema.js";
import {
  constitutionHash,
  defaultConstitutionPath,
  loadConstitution,
} from "../../constitution/load-constitution.js";
import { runAction } from "../run-action.js";

/** Values of `cai constitution import`'s flags. */
interface ImportFlags {
  format: ImportFormat | "auto";
  comparisons?: string;
  out: string;
  name?: string;
  constitutionVersion?: string;
}

/** Registers `cai constitution validate`, `show` and `import`. */
export function registerConstitutionCommand(program: Command): void {
  const constitution = program
    .command("constitution")
    .description("check, show and import constitutions (principles, few-shot examples, templates)");

  constitution
    .command("validate")
    .description("check a constitution file and count what it holds")
    .argument("<file>", "constitution (.yaml, .yml or .json)")
    .action(
      runAction(async (file: string) => {
        console.log(`ok: ${summary(await loadConstitution(file))}`);
      }),
    );

  constitution
    .command("show")
    .description("print a constitution's principles compactly (default: the built-in one)")
    .argument("[file]", "constitution (.yaml, .yml or .json)")
    .option("--json", "print the normalised constitution as JSON", false)
    .action(
      runAction(async (file: string | undefined, flags: { json: boolean }) => {
        const loaded = await loadConstitution(file ?? defaultConstitutionPath());
        if (flags.json) console.log(JSON.stringify(loaded, null, 2));
        else for (const line of describe(loaded)) console.log(line);
      }),
    );

  constitution
    .command("import")
    .description("convert a constitution from another tool's format into cai's YAML")
    .argument("<file>", "the file to import (.json, .yaml or .yml)")
    .option("--format <format>", `auto, ${importFormats.join(", ")}`, formatFlag, "auto")
    .option("--comparisons <file>", "a JSON list of comparison questions (the paper's format)")
    .requiredOption("--out <file>", "where to write the constitution (.yaml)")
    .option("--name <name>", "name of the new constitution (default: from the file name)")
    .option("--constitution-version <version>", "version of the new constitution", "1.0.0")
    .action(
      runAction(async (file: string, flags: ImportFlags) => {
        const result = await importConstitution(file, flags.format, {
          ...(flags.comparisons ? { comparisonsFile: flags.comparisons } : {}),
          ...(flags.name ? { name: flags.name } : {}),
          ...(flags.constitutionVersion ? { version: flags.constitutionVersion } : {}),
        });
        const schema = path
          .relative(path.dirname(path.resolve(flags.out)), constitutionJsonSchemaPath())
          .split(path.sep)
          .join("/");
        await writeFile(flags.out, constitutionToYaml(result.constitution, { schema }));
        for (const warning of result.warnings) console.error(`cai: warning: ${warning}`);
        console.log(`wrote ${flags.out} (${result.format} format): ${summary(result.constitution)}`);
      }),
    );
}

function formatFlag(value: string): ImportFormat | "auto" {
  const formats: readonly string[] = ["auto", ...importFormats];
  if (!formats.includes(value))
    throw new InvalidArgumentError(`--format must be one of ${formats.join(", ")}, got "${value}"`);
  return value as ImportFormat | "auto";
}

/** "N principles, M comparisons, K examples". */
function summary(c: Constitution): string {
  const examples = c.examples.critique.length + c.examples.comparison.length;
  return `${c.principles.length} principles, ${c.comparisons.length} comparisons, ${examples} examples`;
}

/** One line per principle and comparison, texts shortened to fit a terminal. */
function describe(c: Constitution): string[] {
  const short = (text: string, width = 96) => {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
  };
  const label = (p: { id: string; tags?: string[] | undefined; weight: number }) =>
    `${p.id}${p.weight === 1 ? "" : ` ×${p.weight}`}${p.tags?.length ? ` [${p.tags.join(", ")}]` : ""}`;
  return [
    `${c.name} ${c.version}${c.description ? ` — ${short(c.description, 120)}` : ""}`,
    `sha256 ${constitutionHash(c)}`,
    "",
    `${c.principles.length} critique → revision principles:`,
    ...c.principles.flatMap((p) => [
      `  ${label(p)}`,
      `    critique: ${short(p.critique)}`,
      `    revision: ${short(p.revision)}`,
    ]),
    "",
    `${c.comparisons.length} comparison principles:`,
    ...c.comparisons.map((p) => `  ${label(p)}: ${short(p.question)}`),
    "",
    `examples: ${c.examples.critique.length} critique, ${c.examples.comparison.length} comparison`,
    c.templates ? `templates: own ${Object.keys(c.templates).join(", ")}` : "templates: the defaults",
  ];
}
