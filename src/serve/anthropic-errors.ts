// Anthropic's error body, `{type: "error", error: {type, message}}`, for requests made the Anthropic way
// (the Messages API, or any route asked with Anthropic's headers), so the Anthropic SDK raises the right
// error class (its types follow the HTTP status).
import type { FastifyRequest } from "fastify";
import type { ApiError } from "./openai-errors.js";

/** Anthropic's error body. */
export interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string };
}

/** Anthropic's error type for an HTTP status. */
function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

/** The body of an Anthropic-style error answer. */
export function anthropicErrorBody(error: ApiError): AnthropicErrorBody {
  return { type: "error", error: { type: anthropicErrorType(error.status), message: error.message } };
}

/**
 * Whether a request is answered in Anthropic's shapes: the Messages API, or a shared route such as
 * `/v1/models` asked with Anthropic's headers (`anthropic-version`, which its SDK always sends, or an
 * `x-api-key` without OpenAI's `Authorization`).
 */
export function isAnthropicRequest(request: FastifyRequest): boolean {
  const path = request.url.split("?")[0] ?? "";
  if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return true;
  const { headers } = request;
  return (
    headers["anthropic-version"] !== undefined ||
    (headers["x-api-key"] !== undefined && !headers.authorization)
  );
}
