// One entry point for every prompt-file format cai imports, chosen by name (`hh-rlhf`, `csv`, `jsonl`).
import { type CsvImportOptions, importCsv } from "./csv.js";
import type { PromptImportResult } from "./finish-import.js";
import { type HhRlhfImportOptions, importHhRlhf } from "./hh-rlhf.js";
import { importJsonl, type JsonlImportOptions } from "./jsonl.js";

/** The formats {@link importPrompts} reads. */
export const promptFileFormats = ["hh-rlhf", "csv", "jsonl"] as const;
/** A format {@link importPrompts} reads. */
export type PromptFileFormat = (typeof promptFileFormats)[number];

/** Options of {@link importPrompts}: the format and that format's options. */
export type ImportPromptsOptions =
  | ({ format: "hh-rlhf" } & HhRlhfImportOptions)
  | ({ format: "csv" } & CsvImportOptions)
  | ({ format: "jsonl" } & JsonlImportOptions);

/** Imports a prompt file of any supported format into prompt records. */
export function importPrompts(file: string, options: ImportPromptsOptions): Promise<PromptImportResult> {
  switch (options.format) {
    case "hh-rlhf":
      return importHhRlhf(file, options);
    case "csv":
      return importCsv(file, options);
    case "jsonl":
      return importJsonl(file, options);
  }
}
