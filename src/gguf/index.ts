// Public API of the GGUF module: read and write llama.cpp model files, typed metadata, number formats.
export { GgmlType, type GgmlTypeLayout, GgufValueType, ggmlTypeLayout, ggmlTypeName } from "./ggml-types.js";
export { GgufFormatError, type GgufFormatErrorOptions } from "./gguf-format-error.js";
export {
  type GgufArray,
  type GgufBigIntType,
  type GgufNumberType,
  type GgufPlain,
  type GgufScalarType,
  type GgufValue,
  gguf,
  ggufValueProblem,
  plainValue,
} from "./gguf-value.js";
export {
  bf16BitsToF32,
  bf16BytesToF32,
  dequantizeQ8_0,
  f16BitsToF32,
  f16BytesToF32,
  f32ToF16Bits,
  f32ToF16Bytes,
  Q8_0_BLOCK_BYTES,
  Q8_0_BLOCK_SIZE,
  quantizeQ8_0,
  roundToF16,
} from "./numeric.js";
export { GGUF_DEFAULT_ALIGNMENT, GgufFile, type GgufTensorInfo, openGguf } from "./reader.js";
export { UnsupportedTensorTypeError } from "./unsupported-tensor-type-error.js";
export { type GgufTensorSpec, type GgufWriteOptions, type GgufWriteTensorType, writeGguf } from "./writer.js";
