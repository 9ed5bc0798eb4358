// Anthropic's error body, `{type: "error", error: {type, message}}`, for the `/v1/messages` route, so
// the Anthropic SDK raises the right error class (its types follow the HTTP status).
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

/** Whether a request path is answered in Anthropic's shapes (the Messages API). */
export function isAnthropicPath(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return path === "/v1/messages" || path.startsWith("/v1/messages/");
}
