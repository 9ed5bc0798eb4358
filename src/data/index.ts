// The prompt-set part of cai's library API: the record format, loading and writing, the built-in
// red-team and helpful sets, the fixed train/test split, and importers of others' prompt files.
export {
  type BuiltinPromptSetName,
  builtinPromptSetNames,
  builtinPromptSetPath,
  isBuiltinPromptSetName,
  loadBuiltinPromptSet,
  resolvePromptSetFile,
} from "./builtin-prompt-sets.js";
export { type CsvImportOptions, delimiterOf, importCsv } from "./importers/csv.js";
export type { PromptImportOptions, PromptImportResult } from "./importers/finish-import.js";
export {
  type HhRlhfImportOptions,
  type HhRlhfTurns,
  importHhRlhf,
  parseHhTranscript,
} from "./importers/hh-rlhf.js";
export {
  type ImportPromptsOptions,
  importPrompts,
  type PromptFileFormat,
  promptFileFormats,
} from "./importers/import-prompts.js";
export { importJsonl, type JsonlImportOptions } from "./importers/jsonl.js";
export { type JsonLine, readJsonLines, writeJsonLines } from "./jsonl-file.js";
export { promptColumnNames, promptFieldNames } from "./prompt-fields.js";
export { loadPromptFile, type PromptFileOptions, type PromptFileReading } from "./prompt-file.js";
export { selectPrompts } from "./prompt-selection.js";
export {
  loadPromptSet,
  type PromptKind,
  type PromptRecord,
  type PromptStyle,
  promptKinds,
  promptMessages,
  promptRecordSchema,
  promptStyles,
  writePromptSet,
} from "./prompt-set.js";
export { type CategoryCount, countByCategory } from "./prompt-set-stats.js";
export { assignSplits, defaultTestFraction, type PromptSplit, splitHash } from "./split.js";
export { UnknownPromptSetError } from "./unknown-prompt-set-error.js";
