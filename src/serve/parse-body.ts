// Validates a request body with a zod schema, turning the first problems into one 400 answer that
// names the fields (`messages: Required`, `messages[0].role: Invalid option…`, `tools: cai serve does
// not call tools…`), a field no schema knows included; `param` is the first field named.
import type { z } from "zod";
import { ApiError } from "./openai-errors.js";

/** Formats a zod path as `messages[0].content`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** One problem with a request: the field's path and what is wrong with it. */
interface Problem {
  field: string;
  message: string;
  /** OpenAI's error code for it. */
  code: "unknown_parameter" | "unsupported_parameter" | "invalid_value";
}

/** The problems of a failed parse: one per field, an unknown field as "not a field this server knows". */
function problemsOf(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({
          field: formatPath([...issue.path, key]),
          message: "not a field cai serve implements",
          code: "unknown_parameter",
        });
      }
    } else {
      const unsupported = issue.code === "custom" && issue.params?.unsupported === true;
      problems.push({
        field: formatPath(issue.path),
        message: issue.message,
        code: unsupported ? "unsupported_parameter" : "invalid_value",
      });
    }
  }
  return problems;
}

/** The parsed body, or an `ApiError` 400 naming every field that is missing or wrong (up to five). */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(
      400,
      "the request body must be a JSON object",
      "invalid_request_error",
      "invalid_body",
    );
  }
  const result = schema.safeParse(body, {
    error: (issue) => (issue.code === "invalid_type" && issue.input === undefined ? "Required" : undefined),
  });
  if (result.success) return result.data;
  const problems = problemsOf(result.error.issues).slice(0, 5);
  const message = problems.map((p) => `${p.field || "body"}: ${p.message}`).join("; ");
  const first = problems[0];
  throw new ApiError(
    400,
    message,
    "invalid_request_error",
    first?.code ?? "invalid_value",
    first?.field || null,
  );
}
