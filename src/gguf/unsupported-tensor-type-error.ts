// Error thrown when a tensor's GGML type cannot be decoded by this module (only F32, F16, BF16, Q8_0 can).
import { CaiError } from "../errors/cai-error.js";

/** A tensor is stored in a GGML type that this module cannot convert to float32. */
export class UnsupportedTensorTypeError extends CaiError {
  override readonly name = "UnsupportedTensorTypeError";
  /** The GGUF file concerned. */
  readonly filePath: string;
  /** The tensor that could not be read. */
  readonly tensorName: string;
  /** The GGML type name, e.g. "Q4_K". */
  readonly tensorType: string;
  /** The GGML type id, e.g. 12 for Q4_K. */
  readonly typeId: number;

  constructor(
    filePath: string,
    tensorName: string,
    typeId: number,
    tensorType: string,
    options?: ErrorOptions,
  ) {
    super(`unsupported tensor type ${tensorType} in file ${filePath} (tensor "${tensorName}")`, options);
    this.filePath = filePath;
    this.tensorName = tensorName;
    this.tensorType = tensorType;
    this.typeId = typeId;
  }

  /** True for any UnsupportedTensorTypeError, also across duplicated module instances. */
  static override isInstance(value: unknown): value is UnsupportedTensorTypeError {
    return CaiError.isInstance(value) && value.name === "UnsupportedTensorTypeError";
  }
}
