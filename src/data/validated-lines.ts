// Parsed JSON Lines validated against a zod schema, one row per line: the first problem becomes an
// InputFileError naming the line and field, and (when rows have ids) a repeated id names the line that
// used it first. Shared by every JSONL format cai reads (prompt sets, responses, evaluation queues).
import type { z } from "zod";
import { InputFileError } from "../errors/input-file-error.js";
import type { JsonLine } from "./jsonl-file.js";
import { checkSchema } from "./schema-issue.js";

/** Options of {@link validateLines}. */
export interface ValidateLinesOptions<T> {
  /** The problem to report for a file without rows; empty files are allowed when absent. */
  readonly empty?: string;
  /** The row's id, when ids must not repeat. */
  readonly idOf?: (row: T) => string;
}

/** Every line of `file` validated by `schema`. */
export function validateLines<Schema extends z.ZodType>(
  file: string,
  lines: readonly JsonLine[],
  schema: Schema,
  options: ValidateLinesOptions<z.output<Schema>> = {},
): Array<z.output<Schema>> {
  if (lines.length === 0 && options.empty !== undefined) throw new InputFileError(file, options.empty);
  const firstLineOfId = new Map<string, number>();
  return lines.map(({ line, value }) => {
    const parsed = checkSchema(schema, value);
    if (!parsed.success) throw new InputFileError(file, parsed.problem, { line, field: parsed.field });
    if (options.idOf) {
      const id = options.idOf(parsed.data);
      const earlier = firstLineOfId.get(id);
      if (earlier !== undefined)
        throw new InputFileError(file, `duplicate id "${id}", first used on line ${earlier}`, {
          line,
          field: "id",
        });
      firstLineOfId.set(id, line);
    }
    return parsed.data;
  });
}
