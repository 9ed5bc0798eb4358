// Validates a request body with a zod schema, turning the first problems into one 400 answer that
// names the fields (`messages: Required`, `messages[0].role: Invalid option…`).
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
  const issues = result.error.issues.slice(0, 5);
  const first = issues[0];
  const message = issues.map((issue) => `${formatPath(issue.path) || "body"}: ${issue.message}`).join("; ");
  const param = first && first.path.length > 0 ? formatPath(first.path) : null;
  throw new ApiError(400, message, "invalid_request_error", "invalid_value", param);
}
