// Error thrown when a GGUF file is malformed (reading) or the data given to the writer cannot be written.
import { CaiError } from "../errors/cai-error.js";

/** Where and what went wrong with a GGUF file. */
export interface GgufFormatErrorOptions extends ErrorOptions {
  /** Byte offset in the file where the problem was found, when that helps. */
  offset?: number;
  /** True when the problem was found while writing (bad input) rather than reading. */
  writing?: boolean;
}

/** A GGUF file is malformed, truncated or unsupported, or the writer was given data it cannot write. */
export class GgufFormatError extends CaiError {
  override readonly name = "GgufFormatError";
  /** The GGUF file concerned. */
  readonly filePath: string;
  /** What is wrong, without the file name. */
  readonly problem: string;
  /** Byte offset in the file where the problem was found, if known. */
  readonly offset: number | undefined;

  constructor(filePath: string, problem: string, options: GgufFormatErrorOptions = {}) {
    const { offset, writing, ...errorOptions } = options;
    const at = offset === undefined ? "" : ` (at byte ${offset})`;
    const what = writing ? "cannot write GGUF file" : "invalid GGUF file";
    super(`${what} ${filePath}: ${problem}${at}`, errorOptions);
    this.filePath = filePath;
    this.problem = problem;
    this.offset = offset;
  }

  /** True for any GgufFormatError, also across duplicated module instances. */
  static override isInstance(value: unknown): value is GgufFormatError {
    return CaiError.isInstance(value) && value.name === "GgufFormatError";
  }
}
