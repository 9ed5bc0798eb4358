// HTTP errors of the server: one `ApiError` type, the mapping from anything a route or fastify throws
// to it (status, OpenAI error type and code, never a stack trace), and OpenAI's `{error: {...}}` body.
import { InvalidRequestError } from "../models/errors/invalid-request-error.js";
import { ModelTimeoutError } from "../models/errors/model-timeout-error.js";
import { UnsupportedCapabilityError } from "../models/errors/unsupported-capability-error.js";
import { ClientClosedError, RequestTimeoutError, ServerClosingError } from "./request-scope.js";

/** An error answered over HTTP: status, message, and OpenAI's `type`, `code` and `param`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = status >= 500 ? "server_error" : "invalid_request_error",
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** What fastify's own errors look like (a `code` such as `FST_ERR_CTP_BODY_TOO_LARGE`, a `statusCode`). */
interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** Fastify's error codes with the answer each gets. */
const fastifyErrors: Record<string, (message: string) => ApiError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new ApiError(
      413,
      "the request body is larger than this server accepts",
      "invalid_request_error",
      "request_too_large",
    ),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new ApiError(400, "the request body is not valid JSON", "invalid_request_error", "invalid_json"),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new ApiError(
      400,
      "the request body is empty; send a JSON object",
      "invalid_request_error",
      "invalid_json",
    ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new ApiError(
      415,
      "unsupported content type: send application/json",
      "invalid_request_error",
      "unsupported_media_type",
    ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new ApiError(400, "the request body's size does not match its Content-Length", "invalid_request_error"),
};

/**
 * The HTTP answer for anything thrown while serving a request. Errors the client caused keep their
 * message; anything unexpected becomes a 500 with a generic message (the caller logs the original).
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof RequestTimeoutError || ModelTimeoutError.isInstance(error)) {
    return new ApiError(504, error.message, "timeout_error", "request_timeout");
  }
  if (error instanceof ClientClosedError)
    return new ApiError(499, error.message, "invalid_request_error", "client_closed");
  if (error instanceof ServerClosingError)
    return new ApiError(503, error.message, "server_error", "server_closing");
  if (InvalidRequestError.isInstance(error)) return new ApiError(400, error.message, "invalid_request_error");
  if (UnsupportedCapabilityError.isInstance(error)) {
    return new ApiError(400, error.message, "invalid_request_error", "unsupported_capability");
  }
  if (typeof error === "object" && error !== null) {
    const { code, statusCode, message } = error as FastifyLikeError;
    const known = typeof code === "string" ? fastifyErrors[code] : undefined;
    if (known) return known(String(message));
    if (error instanceof SyntaxError)
      return new ApiError(400, "the request body is not valid JSON", "invalid_request_error");
    // Other fastify errors with a 4xx status (e.g. a malformed URL): their messages are safe to show.
    if (
      typeof statusCode === "number" &&
      statusCode >= 400 &&
      statusCode < 500 &&
      typeof message === "string"
    ) {
      return new ApiError(statusCode, message, "invalid_request_error");
    }
  }
  return new ApiError(500, "internal server error", "server_error");
}

/** The body of an OpenAI-style error answer. */
export function openAIErrorBody(error: ApiError): OpenAIErrorBody {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}
