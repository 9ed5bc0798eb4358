// A prompt file as users hand it to `--prompts`: a cai prompt set, or rows as people have them (JSONL
// `{"prompt": …}`, `{"goal": …}`, chat `messages`, hh-rlhf transcripts, bare strings; CSV/TSV with a
// `prompt`-like column), read as `cai prompts import` would — ids from the prompt's text (stable when
// lines move), kind and category from the caller or the defaults, the fixed split by id.
import { importCsv } from "./importers/csv.js";
import {
  defaultImportCategory,
  defaultImportKind,
  type PromptImportResult,
} from "./importers/finish-import.js";
import { importJsonLines } from "./importers/jsonl.js";
import { readJsonLines } from "./jsonl-file.js";
import { isPromptRecordRow, type PromptKind, type PromptRecord, validatePromptLines } from "./prompt-set.js";

/** What was filled in when a file's rows were not cai prompt records, for the caller to tell the user. */
export interface PromptFileReading {
  file: string;
  prompts: number;
  /** Whether some rows named no kind / no category, so that the one below was filled in. */
  filledKind: boolean;
  filledCategory: boolean;
  kind: PromptKind;
  category: string;
  train: number;
  test: number;
  duplicatesDropped: number;
}

/** Options of {@link loadPromptFile}. */
export interface PromptFileOptions {
  /** Kind of prompts whose row does not say; default red-team. */
  kind?: PromptKind;
  /** Category of prompts whose row does not say; default the file's name. */
  category?: string;
  /** Called when the file was read as rows as people have them (not a cai prompt set). */
  onRead?: (reading: PromptFileReading) => void;
}

const csvLike = /\.(csv|tsv)(\.gz)?$/i;

/** Tells `onRead` how the file was read; `rowsHaveKind` when every row named its own kind. */
function told(
  file: string,
  result: PromptImportResult,
  options: PromptFileOptions,
  rowsHaveKind: boolean,
): PromptRecord[] {
  const test = result.records.filter((record) => record.split === "test").length;
  const category = options.category ?? defaultImportCategory(file);
  options.onRead?.({
    file,
    prompts: result.records.length,
    filledKind: !rowsHaveKind,
    filledCategory: result.records.some((record) => record.category === category),
    kind: options.kind ?? defaultImportKind,
    category,
    train: result.records.length - test,
    test,
    duplicatesDropped: result.duplicatesDropped,
  });
  return result.records;
}

/**
 * The prompts of `file`: a cai prompt set (validated strictly, every field checked), or — when its first
 * row does not name a kind and a split — rows as people have them, imported with ids from their text.
 * A file that cannot be read as prompts is an InputFileError naming the line and the command that
 * converts it.
 */
export async function loadPromptFile(file: string, options: PromptFileOptions = {}): Promise<PromptRecord[]> {
  const common = {
    ...(options.kind === undefined ? {} : { kind: options.kind }),
    ...(options.category === undefined ? {} : { category: options.category }),
    idsFrom: "content" as const,
  };
  if (csvLike.test(file)) return told(file, await importCsv(file, common), options, false);
  const lines = await readJsonLines(file);
  if (lines.length === 0 || isPromptRecordRow(lines[0]?.value)) return validatePromptLines(file, lines);
  const rowsHaveKind = lines.every(
    ({ value }) => typeof value === "object" && value !== null && "kind" in value,
  );
  return told(file, importJsonLines(file, lines, common), options, rowsHaveKind);
}
