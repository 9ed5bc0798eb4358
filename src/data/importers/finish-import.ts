// What every importer shares once it has read prompts out of a file: drop repeated prompts, give each an
// id, a category and the fixed split, and validate the records as a prompt set would be.
import path from "node:path";
import { InputFileError } from "../../errors/input-file-error.js";
import type { ChatMessage } from "../../models/model.js";
import { type PromptKind, type PromptRecord, promptRecordSchema } from "../prompt-set.js";
import { checkSchema } from "../schema-issue.js";
import { assignSplits } from "../split.js";

/** Options every importer takes. */
export interface PromptImportOptions {
  kind: PromptKind;
  /**
   * Category of the imported prompts; with a category column or field mapped, the category of rows whose
   * own is empty. Required unless every row names its category.
   */
  category?: string;
  /** Recorded as each record's `source`; default: the file's name. */
  source?: string;
}

/** What an import produced: the records, and how many repeated prompts were left out. */
export interface PromptImportResult {
  records: PromptRecord[];
  duplicatesDropped: number;
}

/** A prompt as an importer read it, before ids, splits and validation. */
export interface ImportedPrompt {
  /** Line of the file it starts on, for ids and error messages. */
  line: number;
  prompt: string | ChatMessage[];
  /** Its own id, from an id column or field. */
  id?: string;
  /** Its own category, from a category column or field; slugged (`Hate speech` → `hate-speech`). */
  category?: string;
}

/** How the file names the record's fields, so errors point at the user's column or field. */
export interface ImportFieldNames {
  prompt: string;
  id?: string;
  category?: string;
  /**
   * Whether the prompt was a JSON list of messages whose indices an error may name (`messages[2].role`);
   * otherwise errors name the prompt field alone.
   */
  promptIsList?: boolean;
}

/** A category as the file spells it, made into a slug: `Illegal goods and services` → `illegal-goods-and-services`. */
export function categorySlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
}

/** The stem ids are made from when the file has none: `harmful_behaviors.csv` → `harmful_behaviors`. */
export function idStem(file: string): string {
  const base = path.basename(file).replace(/(\.(jsonl|json|csv|tsv|txt))?(\.gz)?$/i, "");
  return base.replace(/[^A-Za-z0-9_-]+/g, "-").toLowerCase() || "prompt";
}

/** The user's name for a record field a schema problem points at, e.g. `prompt[2].role` → `messages[2].role`. */
function userField(field: string | undefined, fields: ImportFieldNames): string | undefined {
  if (field === undefined) return fields.prompt;
  if (field === "prompt" || field.startsWith("prompt[")) {
    return fields.promptIsList ? `${fields.prompt}${field.slice("prompt".length)}` : fields.prompt;
  }
  if (field === "id") return fields.id ?? "id";
  if (field === "category") return fields.category ?? "category";
  return field;
}

/**
 * Turns what an importer read into prompt records: repeated prompts are dropped (the first kept); ids
 * come from the file or are `<stem>-<line>`; the split follows {@link assignSplits}. A missing category,
 * a repeated id, an invalid record or no prompts at all throw an InputFileError naming the line.
 */
export function finishImport(
  file: string,
  prompts: readonly ImportedPrompt[],
  options: PromptImportOptions,
  fields: ImportFieldNames,
): PromptImportResult {
  const seenPrompts = new Set<string>();
  const unique = prompts.filter(({ prompt }) => {
    const key = JSON.stringify(prompt);
    if (seenPrompts.has(key)) return false;
    seenPrompts.add(key);
    return true;
  });
  if (unique.length === 0) throw new InputFileError(file, "no prompts found");
  const stem = idStem(file);
  const firstLineOfId = new Map<string, number>();
  const drafts = unique.map(({ line, prompt, id: ownId, category: ownCategory }) => {
    const id = ownId?.trim() || `${stem}-${line}`;
    const earlier = firstLineOfId.get(id);
    if (earlier !== undefined)
      throw new InputFileError(file, `duplicate id "${id}", first used on line ${earlier}`, {
        line,
        field: fields.id ?? "id",
      });
    firstLineOfId.set(id, line);
    const category = (ownCategory === undefined ? "" : categorySlug(ownCategory)) || options.category;
    if (category === undefined)
      throw new InputFileError(file, "no category: the row has none and no default category was given", {
        line,
        field: fields.category ?? "category",
      });
    return { line, id, category, prompt };
  });
  const splits = assignSplits(drafts);
  const source = options.source ?? path.basename(file);
  const records = drafts.map(({ line, id, category, prompt }) => {
    const candidate = { id, kind: options.kind, category, split: splits.get(id) ?? "train", source, prompt };
    const parsed = checkSchema(promptRecordSchema, candidate);
    if (!parsed.success)
      throw new InputFileError(file, parsed.problem, { line, field: userField(parsed.field, fields) });
    return parsed.data;
  });
  return { records, duplicatesDropped: prompts.length - unique.length };
}
