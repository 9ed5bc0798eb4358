// What every importer shares once it has read prompts out of a file: drop repeated prompts, give each an
// id, a kind, a category and the fixed split, and validate the records as a prompt set would be.
import { createHash } from "node:crypto";
import path from "node:path";
import { InputFileError } from "../../errors/input-file-error.js";
import type { ChatMessage } from "../../models/model.js";
import { type PromptKind, type PromptRecord, promptRecordSchema } from "../prompt-set.js";
import { checkSchema } from "../schema-issue.js";
import { assignSplits } from "../split.js";

/** The kind of imported prompts that do not say: red-team, what Constitutional AI revises. */
export const defaultImportKind: PromptKind = "red-team";

/** Options every importer takes. */
export interface PromptImportOptions {
  /** Kind of the prompts whose row does not name one; default {@link defaultImportKind}. */
  kind?: PromptKind;
  /**
   * Category of the prompts whose row has none; default the file's name as a slug
   * (`harmful_behaviors.csv` → `harmful-behaviors`).
   */
  category?: string;
  /** Recorded as each record's `source`; default: the file's name. */
  source?: string;
  /**
   * How prompts without an id get one: `line` (default), `<stem>-<line>`; or `content`, `<stem>-<hash of
   * the prompt>`, which stays the same when lines are added or moved (so runs resume on an edited file).
   */
  idsFrom?: "line" | "content";
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
  /** Its own kind and split, when the row has them (checked as a prompt record's). */
  kind?: string;
  split?: string;
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

/** The category of imported prompts whose row has none, unless one is given: the file's name as a slug. */
export function defaultImportCategory(file: string): string {
  return categorySlug(idStem(file)) || "imported";
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

/** The id of a prompt the file gives none: from its line, or from its text (see `idsFrom`). */
function madeId(
  stem: string,
  line: number,
  prompt: string | ChatMessage[],
  from: "line" | "content",
): string {
  if (from === "line") return `${stem}-${line}`;
  const text = typeof prompt === "string" ? prompt : JSON.stringify(prompt);
  return `${stem}-${createHash("sha256").update(text, "utf8").digest("hex").slice(0, 10)}`;
}

/**
 * Turns what an importer read into prompt records: repeated prompts are dropped (the first kept); ids
 * come from the file or are made (see `idsFrom`); kind and category come from the row or the defaults;
 * the split from the row or {@link assignSplits}. A repeated id, an invalid record or no prompts at all
 * throw an InputFileError naming the line.
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
  const defaultCategory = options.category ?? defaultImportCategory(file);
  const firstLineOfId = new Map<string, number>();
  const drafts = unique.map((imported) => {
    const { line, prompt, id: ownId, category: ownCategory } = imported;
    const id = ownId?.trim() || madeId(stem, line, prompt, options.idsFrom ?? "line");
    const earlier = firstLineOfId.get(id);
    if (earlier !== undefined)
      throw new InputFileError(file, `duplicate id "${id}", first used on line ${earlier}`, {
        line,
        field: fields.id ?? "id",
      });
    firstLineOfId.set(id, line);
    const slug = ownCategory === undefined ? "" : categorySlug(ownCategory);
    return { ...imported, id, category: slug || defaultCategory };
  });
  const splits = assignSplits(drafts);
  const source = options.source ?? path.basename(file);
  const records = drafts.map(({ line, id, category, prompt, kind, split }) => {
    const candidate = {
      id,
      kind: kind ?? options.kind ?? defaultImportKind,
      category,
      split: split ?? splits.get(id) ?? "train",
      source,
      prompt,
    };
    const parsed = checkSchema(promptRecordSchema, candidate);
    if (!parsed.success)
      throw new InputFileError(file, parsed.problem, { line, field: userField(parsed.field, fields) });
    return parsed.data;
  });
  return { records, duplicatesDropped: prompts.length - unique.length };
}
