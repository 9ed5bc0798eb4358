// Imports prompts from a CSV or TSV file with a header row, given which column holds the prompt (and,
// optionally, the id and the category): XSTest, AdvBench, StrongREJECT and the like. Without a mapping the
// prompt column is found by name (`prompt`, `goal`, `forbidden_prompt`, …) and `id` and `category`
// columns are used when there.
import { CsvError, parse } from "csv-parse/sync";
import { InputFileError } from "../../errors/input-file-error.js";
import { readUserTextFile } from "../../io/text-file.js";
import { importCommandHint, promptColumnNames, promptColumnOf } from "../prompt-fields.js";
import {
  finishImport,
  type ImportedPrompt,
  type PromptImportOptions,
  type PromptImportResult,
} from "./finish-import.js";

/** Options of {@link importCsv}. */
export interface CsvImportOptions extends PromptImportOptions {
  /**
   * Header of the column holding the prompt, e.g. `prompt`, `goal`, `forbidden_prompt`. Without it, the
   * first of `prompt`, `question`, `instruction`, `goal`, `forbidden_prompt`, `text` the header has, and
   * the `id` and `category` columns when there.
   */
  promptColumn?: string;
  /** Header of a column of ids; without it ids are `<file stem>-<line>`. */
  idColumn?: string;
  /** Header of a column of categories (slugged: `Hate speech` → `hate-speech`). */
  categoryColumn?: string;
  /** Field separator; default a tab for `.tsv` and `.tsv.gz` files, a comma otherwise. */
  delimiter?: string;
}

/** The default delimiter for a file name: tab-separated for `.tsv`, comma-separated otherwise. */
export function delimiterOf(file: string): string {
  return /\.tsv(\.gz)?$/i.test(file) ? "\t" : ",";
}

interface CsvRow {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** First line of a parsed row: csv-parse reports the last, and a quoted cell may span lines. */
function firstLineOf(row: CsvRow): number {
  const body = row.raw.replace(/^\n+/, "").replace(/\n$/, "");
  return row.info.lines - (body.match(/\n/g)?.length ?? 0);
}

function parseRows(file: string, text: string, delimiter: string): CsvRow[] {
  try {
    // With `info` and `raw`, each row comes wrapped as {record, raw, info}; csv-parse's types omit this.
    const rows: unknown = parse(text, {
      delimiter,
      bom: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
    });
    return rows as CsvRow[];
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const problem = error.message.replace(/ (?:on|at) line \d+/, "");
    const line = typeof error.lines === "number" ? error.lines : undefined;
    throw new InputFileError(file, `not valid CSV: ${problem}`, line === undefined ? {} : { line }, {
      cause: error,
    });
  }
}

/**
 * Reads a CSV/TSV file (optionally gzipped) into prompt records, one per distinct prompt. A missing
 * column names the columns there are; malformed CSV names the line.
 */
export async function importCsv(file: string, options: CsvImportOptions): Promise<PromptImportResult> {
  // Windows line endings become \n first: csv-parse miscounts lines across a quoted \r\n.
  const text = (await readUserTextFile(file)).replace(/\r\n/g, "\n");
  const rows = parseRows(file, text, options.delimiter ?? delimiterOf(file));
  const [header, ...body] = rows;
  if (!header) throw new InputFileError(file, "empty: no header row");
  const columnIndex = (name: string): number => {
    const index = header.record.indexOf(name);
    if (index < 0)
      throw new InputFileError(file, `no column "${name}"; the columns are: ${header.record.join(", ")}`, {
        line: firstLineOf(header),
      });
    return index;
  };
  const mapped = options.promptColumn !== undefined;
  const promptColumn = options.promptColumn ?? promptColumnOf(header.record);
  if (promptColumn === undefined)
    throw new InputFileError(
      file,
      `no prompt column: the columns are ${header.record.join(", ")}, none of ${promptColumnNames.join(", ")}; ${importCommandHint(file, "csv")}`,
      { line: firstLineOf(header) },
    );
  const ownColumn = (name: string) => (!mapped && header.record.includes(name) ? name : undefined);
  const idColumn = options.idColumn ?? ownColumn("id");
  const categoryColumn = options.categoryColumn ?? ownColumn("category");
  const promptIndex = columnIndex(promptColumn);
  const idIndex = idColumn === undefined ? undefined : columnIndex(idColumn);
  const categoryIndex = categoryColumn === undefined ? undefined : columnIndex(categoryColumn);
  const prompts = body.map((row): ImportedPrompt => {
    const cell = (index: number | undefined) => (index === undefined ? undefined : row.record[index]);
    const id = cell(idIndex);
    const category = cell(categoryIndex);
    return {
      line: firstLineOf(row),
      prompt: cell(promptIndex) ?? "",
      ...(id === undefined ? {} : { id }),
      ...(category === undefined ? {} : { category }),
    };
  });
  return finishImport(file, prompts, options, {
    prompt: promptColumn,
    ...(idColumn === undefined ? {} : { id: idColumn }),
    ...(categoryColumn === undefined ? {} : { category: categoryColumn }),
  });
}
