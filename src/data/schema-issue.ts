// Validates a parsed JSON value against a zod schema and names the one problem to fix first, worded as
// for every user file cai reads (the messages are shared with constitution files).
import type { z } from "zod";
import { formatFieldPath } from "../io/structured-file.js";
import { issueMessage, issueToReport, mostSpecificIssue } from "../io/zod-issue-message.js";

/** The parsed value, or the first problem: the field path as messages show it (`prompt[2].role`). */
export type SchemaCheck<T> =
  | { success: true; data: T }
  | { success: false; field: string | undefined; problem: string };

/**
 * Checks `value` against `schema`. On failure, a union that matched no option is narrowed to the option
 * whose type matched, and an unknown field is named by its key.
 */
export function checkSchema<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
): SchemaCheck<z.output<Schema>> {
  const result = schema.safeParse(value, { reportInput: true, error: issueMessage });
  if (result.success) return { success: true, data: result.data };
  const first = issueToReport(result.error.issues);
  if (!first) return { success: false, field: undefined, problem: "invalid" };
  const { issue, path } = mostSpecificIssue(first);
  const unknownKey = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
  const field = formatFieldPath(unknownKey === undefined ? path : [...path, unknownKey]);
  return { success: false, field: field === "" ? undefined : field, problem: issue.message };
}
