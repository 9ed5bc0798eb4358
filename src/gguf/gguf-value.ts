// Typed GGUF metadata values: each value carries its GGUF type, so a write → read round trip is exact.
// Also small constructors (`gguf.u32(5)`, `gguf.strArray([...])`) and `plainValue` to get the JS value back.

/** GGUF scalar types held as JS numbers. */
export type GgufNumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
/** GGUF scalar types held as bigints (they do not fit a double). */
export type GgufBigIntType = "u64" | "i64";
/** Every GGUF scalar (non-array) type. */
export type GgufScalarType = GgufNumberType | GgufBigIntType | "bool" | "string";

/** A GGUF array: all items share `itemType`; items of a nested array are arrays with their own item type. */
export type GgufArray =
  | { type: "array"; itemType: GgufNumberType; value: number[] }
  | { type: "array"; itemType: GgufBigIntType; value: bigint[] }
  | { type: "array"; itemType: "bool"; value: boolean[] }
  | { type: "array"; itemType: "string"; value: string[] }
  | { type: "array"; itemType: "array"; value: GgufArray[] };

/** A GGUF metadata value with its type. */
export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | GgufArray;

/** A metadata value as plain JS: what `plainValue` returns. */
export type GgufPlain = number | bigint | boolean | string | GgufPlain[];

const INT_RANGES: Record<Exclude<GgufNumberType, "f32" | "f64">, readonly [number, number]> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};
const BIGINT_RANGES: Record<GgufBigIntType, readonly [bigint, bigint]> = {
  u64: [0n, 2n ** 64n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Why a scalar cannot be stored as `type`, or undefined if it can. */
function scalarProblem(type: GgufScalarType, v: unknown): string | undefined {
  switch (type) {
    case "f32":
    case "f64":
      return typeof v === "number" ? undefined : `${type} value must be a number, got ${typeof v}`;
    case "u64":
    case "i64": {
      if (typeof v !== "bigint") return `${type} value must be a bigint, got ${typeof v}`;
      const [lo, hi] = BIGINT_RANGES[type];
      return v < lo || v > hi ? `${type} value ${v} is out of range [${lo}, ${hi}]` : undefined;
    }
    case "bool":
      return typeof v === "boolean" ? undefined : `bool value must be a boolean, got ${typeof v}`;
    case "string":
      return typeof v === "string" ? undefined : `string value must be a string, got ${typeof v}`;
    default: {
      const [lo, hi] = INT_RANGES[type];
      if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
        return `${type} value must be an integer in [${lo}, ${hi}], got ${String(v)}`;
      }
      return undefined;
    }
  }
}

const SCALAR_TYPES: ReadonlySet<string> = new Set<GgufScalarType>([
  "u8",
  "i8",
  "u16",
  "i16",
  "u32",
  "i32",
  "f32",
  "f64",
  "u64",
  "i64",
  "bool",
  "string",
]);

/**
 * Checks that a value (built by hand or by the constructors) can be written as typed.
 * Returns a description of the first problem, or undefined if the value is fine.
 */
export function ggufValueProblem(v: GgufValue): string | undefined {
  if (v.type !== "array") {
    if (!SCALAR_TYPES.has(v.type)) return `unknown value type "${String(v.type)}"`;
    return scalarProblem(v.type, v.value);
  }
  if (!Array.isArray(v.value)) return "array value must be a JS array";
  if (v.itemType === "array") {
    for (const [i, item] of v.value.entries()) {
      const p = item?.type === "array" ? ggufValueProblem(item) : "item is not a GGUF array value";
      if (p !== undefined) return `array item ${i}: ${p}`;
    }
    return undefined;
  }
  if (!SCALAR_TYPES.has(v.itemType)) return `unknown array item type "${String(v.itemType)}"`;
  for (const [i, item] of (v.value as unknown[]).entries()) {
    const p = scalarProblem(v.itemType, item);
    if (p !== undefined) return `array item ${i}: ${p}`;
  }
  return undefined;
}

function checked<T extends GgufValue>(v: T): T {
  const problem = ggufValueProblem(v);
  if (problem !== undefined) throw new RangeError(problem);
  return v;
}

function toBigInt(x: bigint | number): bigint {
  if (typeof x === "number" && !Number.isInteger(x)) throw new RangeError(`expected an integer, got ${x}`);
  return BigInt(x);
}

type NumberValue<T extends GgufNumberType> = { type: T; value: number };
type NumberArray<T extends GgufNumberType> = { type: "array"; itemType: T; value: number[] };

function num<T extends GgufNumberType>(type: T) {
  return (value: number): NumberValue<T> =>
    checked({ type, value: type === "f32" ? Math.fround(value) : value });
}
function numArray<T extends GgufNumberType>(itemType: T) {
  return (values: ArrayLike<number>): NumberArray<T> => {
    const value = Array.from(values, (x) => (itemType === "f32" ? Math.fround(x) : x));
    return checked({ type: "array", itemType, value });
  };
}

/**
 * Constructors of typed GGUF values. `f32` values are rounded to float32 up front, so the value
 * held is exactly the value read back. Integers are range-checked (RangeError when out of range).
 */
export const gguf = {
  u8: num("u8"),
  i8: num("i8"),
  u16: num("u16"),
  i16: num("i16"),
  u32: num("u32"),
  i32: num("i32"),
  f32: num("f32"),
  f64: num("f64"),
  u64: (value: bigint | number) => checked({ type: "u64", value: toBigInt(value) }),
  i64: (value: bigint | number) => checked({ type: "i64", value: toBigInt(value) }),
  bool: (value: boolean) => checked({ type: "bool", value }),
  str: (value: string) => checked({ type: "string", value }),
  u8Array: numArray("u8"),
  i8Array: numArray("i8"),
  u16Array: numArray("u16"),
  i16Array: numArray("i16"),
  u32Array: numArray("u32"),
  i32Array: numArray("i32"),
  f32Array: numArray("f32"),
  f64Array: numArray("f64"),
  u64Array: (values: readonly (bigint | number)[]) =>
    checked({ type: "array", itemType: "u64", value: values.map(toBigInt) }),
  i64Array: (values: readonly (bigint | number)[]) =>
    checked({ type: "array", itemType: "i64", value: values.map(toBigInt) }),
  boolArray: (values: readonly boolean[]) => checked({ type: "array", itemType: "bool", value: [...values] }),
  strArray: (values: readonly string[]) => checked({ type: "array", itemType: "string", value: [...values] }),
  /** An array of arrays (each item keeps its own item type). */
  arrayArray: (values: readonly GgufArray[]) =>
    checked({ type: "array", itemType: "array", value: [...values] }),
} as const;

/** The plain JS value of a GGUF value: number, bigint, boolean, string, or (nested) array of those. */
export function plainValue(v: GgufValue): GgufPlain {
  if (v.type !== "array") return v.value;
  if (v.itemType === "array") return v.value.map(plainValue);
  return [...v.value];
}
