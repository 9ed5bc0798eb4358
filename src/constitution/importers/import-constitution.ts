// Turns a constitution written for another tool — the CAI paper's prompt files, Hugging Face's
// llm-swarm constitution.json, a LangChain principle list — into a cai constitution.
import path from "node:path";
import {
  errorAt,
  readStructuredFile,
  type StructuredFile,
  validateStructured,
} from "../../io/structured-file.js";
import { type Constitution, constitutionSchema } from "../constitution-schema.js";
import { type ImportedParts, kebabId } from "./imported-parts.js";
import { importLangChainPrinciples, looksLikeLangChain } from "./langchain-format.js";
import { importLlmSwarm, looksLikeLlmSwarm } from "./llm-swarm-format.js";
import { importPaperComparisons, importPaperPrinciples, looksLikePaperPrinciples } from "./paper-format.js";

/** The foreign formats cai imports. */
export const importFormats = ["paper", "llm-swarm", "langchain"] as const;
/** A foreign constitution format. */
export type ImportFormat = (typeof importFormats)[number];

const importers: Readonly<Record<ImportFormat, (source: StructuredFile) => ImportedParts>> = {
  paper: importPaperPrinciples,
  "llm-swarm": importLlmSwarm,
  langchain: importLangChainPrinciples,
};

const formatShapes = [
  'paper: {"<name>": {"prompt": ["<critique request>"], "edit_request": "<revision request>"}}',
  'llm-swarm: {"constitutions": [{"critic": …, "revision": …}], "system_chat": […]}',
  'langchain: [{"name": …, "critiqueRequest": …, "revisionRequest": …}]',
].join("; ");

/** Options of {@link importConstitution}. */
export interface ImportConstitutionOptions {
  /** A JSON/YAML list of comparison questions (the paper's format), added as `comparison-1`, … */
  comparisonsFile?: string;
  /** Name of the new constitution; default: the kebab-cased file name. */
  name?: string;
  /** Version of the new constitution; default `1.0.0`. */
  version?: string;
}

/** An imported constitution, the format it came from, and what the importer changed or skipped. */
export interface ImportResult {
  constitution: Constitution;
  format: ImportFormat;
  warnings: string[];
}

/** The format of a parsed foreign file, or an InputFileError saying what was expected. */
export function detectImportFormat(source: StructuredFile): ImportFormat {
  const value = source.value;
  if (looksLikeLangChain(value)) return "langchain";
  if (looksLikeLlmSwarm(value)) return "llm-swarm";
  if (looksLikePaperPrinciples(value)) return "paper";
  if (typeof value === "object" && value !== null && "principles" in value)
    throw errorAt(
      source,
      [],
      "this is already a cai constitution: check it with `cai constitution validate`",
    );
  if (Array.isArray(value) && value.every((item) => typeof item === "string"))
    throw errorAt(
      source,
      [],
      "this looks like a list of comparison questions: pass it with --comparisons, next to a principles file",
    );
  throw errorAt(source, [], `cannot tell the format; expected one of: ${formatShapes}`);
}

/**
 * Imports a foreign constitution file (`.json`, `.yaml` or `.yml`) in `format`, or the format it
 * detects. Problems in the files are InputFileErrors with line:column and field.
 */
export async function importConstitution(
  file: string,
  format: ImportFormat | "auto" = "auto",
  options: ImportConstitutionOptions = {},
): Promise<ImportResult> {
  const source = await readStructuredFile(file);
  const chosen = format === "auto" ? detectImportFormat(source) : format;
  const parts = importers[chosen](source);
  const comparisons = options.comparisonsFile
    ? importPaperComparisons(await readStructuredFile(options.comparisonsFile))
    : (parts.comparisons ?? []);
  const draft = {
    name: options.name ?? (kebabId(path.basename(file).replace(/\.(json|ya?ml)$/i, "")) || "imported"),
    version: options.version ?? "1.0.0",
    description: `Imported from ${path.basename(file)}${options.comparisonsFile ? ` and ${path.basename(options.comparisonsFile)}` : ""} (${chosen} format).`,
    principles: parts.principles,
    comparisons,
    examples: { critique: parts.critiqueExamples ?? [], comparison: [] },
  };
  // The parts were checked against their own format; this catches what the conversion could still get
  // wrong (a flag value, an id), reported against the fields of the new constitution.
  const constitution = validateStructured({ file, value: draft, placeOf: () => ({}) }, constitutionSchema);
  return { constitution, format: chosen, warnings: parts.warnings };
}
