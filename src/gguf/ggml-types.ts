// GGML tensor type ids with their names and block layouts, and the GGUF metadata value type ids.
// Ids and layouts follow ggml.h / ggml-common.h; removed ids keep their names but have no layout.

/** GGML tensor element types, by id as stored in GGUF tensor infos. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4 (Q4_2) and 5 (Q4_3) were removed from ggml.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  Q4_0_4_4 = 31, // removed: repacked at load time now
  Q4_0_4_8 = 32, // removed
  Q4_0_8_8 = 33, // removed
  TQ1_0 = 34,
  TQ2_0 = 35,
  IQ4_NL_4_4 = 36, // removed
  IQ4_NL_4_8 = 37, // removed
  IQ4_NL_8_8 = 38, // removed
  MXFP4 = 39,
}

/** How a GGML type packs elements: `blockSize` elements take `bytesPerBlock` bytes. */
export interface GgmlTypeLayout {
  readonly blockSize: number;
  readonly bytesPerBlock: number;
}

const QK_K = 256;

/** Block layouts of the types whose layout is known (removed types have none). */
const LAYOUTS: ReadonlyMap<number, GgmlTypeLayout> = new Map<number, GgmlTypeLayout>([
  [GgmlType.F32, { blockSize: 1, bytesPerBlock: 4 }],
  [GgmlType.F16, { blockSize: 1, bytesPerBlock: 2 }],
  [GgmlType.Q4_0, { blockSize: 32, bytesPerBlock: 2 + 16 }],
  [GgmlType.Q4_1, { blockSize: 32, bytesPerBlock: 4 + 16 }],
  [GgmlType.Q5_0, { blockSize: 32, bytesPerBlock: 2 + 4 + 16 }],
  [GgmlType.Q5_1, { blockSize: 32, bytesPerBlock: 4 + 4 + 16 }],
  [GgmlType.Q8_0, { blockSize: 32, bytesPerBlock: 2 + 32 }],
  [GgmlType.Q8_1, { blockSize: 32, bytesPerBlock: 4 + 32 }],
  [GgmlType.Q2_K, { blockSize: QK_K, bytesPerBlock: 16 + 64 + 4 }],
  [GgmlType.Q3_K, { blockSize: QK_K, bytesPerBlock: 32 + 64 + 12 + 2 }],
  [GgmlType.Q4_K, { blockSize: QK_K, bytesPerBlock: 4 + 12 + 128 }],
  [GgmlType.Q5_K, { blockSize: QK_K, bytesPerBlock: 4 + 12 + 32 + 128 }],
  [GgmlType.Q6_K, { blockSize: QK_K, bytesPerBlock: 128 + 64 + 16 + 2 }],
  [GgmlType.Q8_K, { blockSize: QK_K, bytesPerBlock: 4 + 256 + 32 }],
  [GgmlType.IQ2_XXS, { blockSize: QK_K, bytesPerBlock: 2 + 64 }],
  [GgmlType.IQ2_XS, { blockSize: QK_K, bytesPerBlock: 2 + 64 + 8 }],
  [GgmlType.IQ3_XXS, { blockSize: QK_K, bytesPerBlock: 2 + 96 }],
  [GgmlType.IQ1_S, { blockSize: QK_K, bytesPerBlock: 2 + 32 + 16 }],
  [GgmlType.IQ4_NL, { blockSize: 32, bytesPerBlock: 2 + 16 }],
  [GgmlType.IQ3_S, { blockSize: QK_K, bytesPerBlock: 2 + 64 + 8 + 32 + 4 }],
  [GgmlType.IQ2_S, { blockSize: QK_K, bytesPerBlock: 2 + 64 + 8 + 8 }],
  [GgmlType.IQ4_XS, { blockSize: QK_K, bytesPerBlock: 2 + 2 + 4 + 128 }],
  [GgmlType.I8, { blockSize: 1, bytesPerBlock: 1 }],
  [GgmlType.I16, { blockSize: 1, bytesPerBlock: 2 }],
  [GgmlType.I32, { blockSize: 1, bytesPerBlock: 4 }],
  [GgmlType.I64, { blockSize: 1, bytesPerBlock: 8 }],
  [GgmlType.F64, { blockSize: 1, bytesPerBlock: 8 }],
  [GgmlType.IQ1_M, { blockSize: QK_K, bytesPerBlock: 32 + 16 + 8 }],
  [GgmlType.BF16, { blockSize: 1, bytesPerBlock: 2 }],
  [GgmlType.TQ1_0, { blockSize: QK_K, bytesPerBlock: 48 + 4 + 2 }],
  [GgmlType.TQ2_0, { blockSize: QK_K, bytesPerBlock: 64 + 2 }],
  [GgmlType.MXFP4, { blockSize: 32, bytesPerBlock: 1 + 16 }],
]);

/** The name of a GGML type id, e.g. "Q4_K" for 12; `UNKNOWN_<id>` for ids ggml never had. */
export function ggmlTypeName(id: number): string {
  const name: string | undefined = GgmlType[id];
  return name ?? `UNKNOWN_${id}`;
}

/** The block layout of a GGML type id, or undefined for removed and unknown ids. */
export function ggmlTypeLayout(id: number): GgmlTypeLayout | undefined {
  return LAYOUTS.get(id);
}

/** GGUF metadata value type ids, as stored before each value. */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}
