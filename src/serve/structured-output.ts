// JSON output (OpenAI's `response_format`, Anthropic's `output_config.format`) as the routes pass it to a
// model: only to one whose backend constrains its generation to it; any other gets a 400 naming the field.
import type { LanguageModel, OutputFormat } from "../models/model.js";
import { ApiError } from "./openai-errors.js";

/**
 * `{format}` to spread into the generate options, or nothing when none is asked; a 400 naming `param`
 * when the model cannot honour it (cai never returns free text to a request that asked for JSON).
 */
export function formatOption(
  format: OutputFormat | undefined,
  model: LanguageModel,
  name: string,
  param: string,
): { format?: OutputFormat } {
  if (!format) return {};
  if (!model.capabilities.structuredOutput) {
    throw new ApiError(
      400,
      `${param}: the model ${name} (${model.provider}) cannot constrain its output to JSON; ask without ${param} and validate the text yourself`,
      "invalid_request_error",
      "unsupported_parameter",
      param,
    );
  }
  return { format };
}
