// Maps the errors of the official OpenAI and Anthropic SDKs (both shaped alike), thrown after their
// own retries, to cai's typed model errors.
import { ModelAbortedError } from "./errors/model-aborted-error.js";
import { ModelCallError } from "./errors/model-call-error.js";
import { ModelTimeoutError } from "./errors/model-timeout-error.js";

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes an SDK exports. */
export interface SdkErrorClasses {
  APIUserAbortError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIError: ErrorClass;
}

/** The cai error for an SDK error; anything else passes through unchanged. */
export function toModelError(
  sdk: SdkErrorClasses,
  provider: string,
  error: unknown,
  timeoutMs: number | undefined,
): unknown {
  if (error instanceof sdk.APIUserAbortError) return new ModelAbortedError(provider, { cause: error });
  if (error instanceof sdk.APIConnectionTimeoutError)
    return new ModelTimeoutError(provider, timeoutMs, { cause: error });
  if (error instanceof sdk.APIConnectionError) {
    return new ModelCallError(provider, `cannot reach the server: ${error.message}`, undefined, {
      cause: error,
    });
  }
  if (error instanceof sdk.APIError) {
    const status = (error as { status?: number }).status;
    return new ModelCallError(provider, error.message, status, { cause: error });
  }
  return error;
}
