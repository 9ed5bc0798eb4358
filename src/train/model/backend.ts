// Picks the tfjs backend the trainer runs on: tfjs-node when the user installed it, else single-threaded
// wasm (SIMD), else the plain JS cpu backend. Call it once before making any tensor.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { registerTrainingGradients } from "./gradients.js";

/** Optional native packages, tried in this order; neither is a dependency of cai. */
const nativePackages = [
  { module: "@tensorflow/tfjs-node-gpu", backend: "tensorflow" },
  { module: "@tensorflow/tfjs-node", backend: "tensorflow" },
] as const;

let chosen: Promise<string> | undefined;

/**
 * Makes the fastest available tfjs backend current and returns its name (`"tensorflow"`, `"wasm"` or
 * `"cpu"`), and registers the gradients the transformer needs. Idempotent: later calls return the first
 * call's choice.
 */
export function initTrainingBackend(): Promise<string> {
  chosen ??= chooseBackend().then((name) => {
    registerTrainingGradients();
    return name;
  });
  return chosen;
}

async function chooseBackend(): Promise<string> {
  for (const candidate of nativePackages) {
    if ((await importOptional(candidate.module)) && (await trySetBackend(candidate.backend)))
      return candidate.backend;
  }
  if (await tryWasm()) return "wasm";
  if (await trySetBackend("cpu")) return "cpu";
  throw new CaiError("no tfjs backend could be initialised (tried tfjs-node, wasm and cpu); reinstall cai");
}

/** Imports a package the user may have installed; false when it is absent or fails to load. */
async function importOptional(specifier: string): Promise<boolean> {
  try {
    // A variable specifier keeps TypeScript and bundlers from resolving the optional package.
    const name: string = specifier;
    await import(name);
    return true;
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    // Threaded wasm fails in Node (its worker is loaded from a blob URL): force the single-threaded build.
    await import("@tensorflow/tfjs-backend-wasm");
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    if (!(await trySetBackend("wasm"))) return false;
    shareIdentityOnWasm();
    sliceInPlaceOnWasm();
    return true;
  } catch {
    return false;
  }
}

async function trySetBackend(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

let identityShared = false;

/**
 * Makes tfjs-wasm's Identity kernel share its input's buffer (a reference count, as the cpu backend does)
 * instead of copying it. tfjs runs Identity for every `clone`, including each tensor a gradient tape saves,
 * so the copying kernel doubles what a training step keeps alive. Safe because no wasm kernel writes into
 * its inputs; a buffer is freed when its last tensor is disposed. Idempotent.
 */
function shareIdentityOnWasm(): void {
  if (identityShared) return;
  identityShared = true;
  tf.unregisterKernel(tf.Identity, "wasm");
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

/** The parts of tfjs-wasm's backend the kernels below use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Elements of `x` from `begin`, `size` of them per axis, into a new tensor, reading the heap in place. */
function sliceFromHeap(
  backend: WasmBackend,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const count = tf.util.sizeFromShape(size);
  if (count === 0) return out;
  // Views taken after makeOutput, which may grow (and so move) the heap.
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides);
    to.set(from.subarray(offset, offset + count));
    return out;
  }
  // Row by row along the last axis: an odometer over the others.
  const rank = x.shape.length;
  const row = size[rank - 1] ?? 1;
  const index = new Array<number>(rank - 1).fill(0);
  for (let written = 0; written < count; written += row) {
    let offset = begin[rank - 1] ?? 0;
    for (let axis = 0; axis < rank - 1; axis += 1)
      offset += ((begin[axis] ?? 0) + (index[axis] ?? 0)) * (strides[axis] ?? 0);
    to.set(from.subarray(offset, offset + row), written);
    for (let axis = rank - 2; axis >= 0; axis -= 1) {
      index[axis] = (index[axis] ?? 0) + 1;
      if ((index[axis] ?? 0) < (size[axis] ?? 0)) break;
      index[axis] = 0;
    }
  }
  return out;
}

let sliceReplaced = false;

/**
 * Replaces tfjs-wasm's Slice and SplitV kernels (numeric tensors): they start with `readSync`, which copies
 * the whole input out of the heap, so splitting a tensor in k pieces copied it k times (the LM head's
 * [vocab, dim] weight: 0.8 s a step). These read the heap in place and copy only the slice. Idempotent.
 */
function sliceInPlaceOnWasm(): void {
  if (sliceReplaced) return;
  sliceReplaced = true;
  const originalSlice = tf.getKernel(tf.Slice, "wasm");
  const originalSplit = tf.getKernel(tf.SplitV, "wasm");
  if (originalSlice === undefined || originalSplit === undefined) return;
  tf.unregisterKernel(tf.Slice, "wasm");
  tf.registerKernel({
    kernelName: tf.Slice,
    backendName: "wasm",
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === "string") return originalSlice.kernelFunc(args);
      const attrs = args.attrs as unknown as { begin: number[]; size: number[] };
      const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
      return sliceFromHeap(args.backend as unknown as WasmBackend, x, begin ?? [], size ?? []);
    },
  });
  tf.unregisterKernel(tf.SplitV, "wasm");
  tf.registerKernel({
    kernelName: tf.SplitV,
    backendName: "wasm",
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === "string") return originalSplit.kernelFunc(args);
      const attrs = args.attrs as unknown as { numOrSizeSplits: number[] | number; axis: number | number[] };
      const [axis = 0] = tf.util.parseAxisParam(attrs.axis, x.shape);
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
      const begin = x.shape.map(() => 0);
      return sizes.map((n) => {
        const size = [...x.shape];
        size[axis] = n;
        const part = sliceFromHeap(args.backend as unknown as WasmBackend, x, [...begin], size);
        begin[axis] = (begin[axis] ?? 0) + n;
        return part;
      });
    },
  });
}
