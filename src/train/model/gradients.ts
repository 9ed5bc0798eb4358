// Gradients of the tfjs kernels the transformer uses. tfjs-core alone registers none (the `@tensorflow/tfjs`
// bundle does; tfjs-core's own `register_all_gradients` is ESM without file extensions, unloadable in Node).
import * as tf from "@tensorflow/tfjs-core";

type Saved = tf.Tensor[];

/** The gradient of one input of a kernel with several: Add, Sub, Multiply broadcast, so reduce back. */
function reduceTo(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

function single(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(dy)) throw new Error("a single-output kernel received several gradients");
  return dy;
}

function saved(tensors: Saved, index: number): tf.Tensor {
  const t = tensors[index];
  if (t === undefined) throw new Error(`gradient needs saved tensor ${index}, which was not saved`);
  return t;
}

function numbers(attrs: tf.NamedAttrMap, name: string): number[] {
  const value = attrs[name];
  if (typeof value === "number") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return value as number[];
  throw new Error(`kernel attribute ${name} is not a number or a list of numbers`);
}

function bool(attrs: tf.NamedAttrMap, name: string): boolean {
  return attrs[name] === true;
}

/** The axes a Sum or Mean reduced: its `axis` attribute, null meaning all. */
function reducedAxes(attrs: tf.NamedAttrMap, shape: number[]): number[] {
  if (attrs.axis === null || attrs.axis === undefined) return shape.map((_, i) => i);
  return tf.util.parseAxisParam(numbers(attrs, "axis"), shape);
}

/** Reduce (Sum/Mean) gradient: dy broadcast back over the reduced axes. */
function spreadOverReduced(dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap): tf.Tensor {
  const axes = reducedAxes(attrs, x.shape);
  const kept = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
  return tf.mul(tf.reshape(dy, kept), tf.ones(x.shape));
}

/** The last two axes swapped, explicitly (matMul's transpose flags are slow on wasm). */
function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const rank = perm.length;
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return tf.transpose(t, perm);
}

const configs: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, s) => ({
      a: () => reduceTo(single(dy), saved(s, 0).shape),
      b: () => reduceTo(single(dy), saved(s, 1).shape),
    }),
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, s) => ({
      a: () => reduceTo(single(dy), saved(s, 0).shape),
      b: () => reduceTo(tf.neg(single(dy)), saved(s, 1).shape),
    }),
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, s) => ({
      a: () => reduceTo(tf.mul(single(dy), saved(s, 1)), saved(s, 0).shape),
      b: () => reduceTo(tf.mul(single(dy), saved(s, 0)), saved(s, 1).shape),
    }),
  },
  {
    // Only the plain product the transformer uses: same batch dimensions, no transpose flags.
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, s, attrs) => {
      const [a, b] = [saved(s, 0), saved(s, 1)];
      if (bool(attrs, "transposeA") || bool(attrs, "transposeB") || a.rank !== b.rank)
        throw new Error("the trainer's matMul gradient supports only plain products of equal rank");
      return {
        a: () => tf.matMul(single(dy), swapLastTwo(b)),
        b: () => tf.matMul(swapLastTwo(a), single(dy)),
      };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ["x"],
    gradFunc: (dy, s) => ({ x: () => tf.reshape(single(dy), saved(s, 0).shape) }),
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _s, attrs) => {
      const perm = numbers(attrs, "perm");
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(single(dy), inverse) };
    },
  },
  {
    kernelName: tf.SplitV,
    gradFunc: (dy, _s, attrs) => ({ x: () => tf.concat(dy as tf.Tensor[], numbers(attrs, "axis")[0]) }),
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, s, attrs) => {
      const first = saved(s, 0);
      const [axis = 0] = tf.util.parseAxisParam(numbers(attrs, "axis"), first.shape);
      const parts = tf.split(
        single(dy),
        s.map((t) => t.shape[axis] ?? 0),
        axis,
      );
      return Object.fromEntries(parts.map((part, i) => [String(i), () => part]));
    },
  },
  {
    // dy is [r0·x0, r1·x1, …]: view it as [r0, x0, r1, x1, …] and sum the copies (any rank).
    kernelName: tf.Tile,
    inputsToSave: ["x"],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const reps = numbers(attrs, "reps");
      const split = x.shape.flatMap((n, i) => [reps[i] ?? 1, n]);
      const copyAxes = x.shape.map((_, i) => 2 * i);
      return { x: () => tf.reshape(tf.sum(tf.reshape(single(dy), split), copyAxes), x.shape) };
    },
  },
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, s, attrs) => {
      const y = saved(s, 0);
      const dim = numbers(attrs, "dim");
      return { logits: () => tf.mul(y, tf.sub(single(dy), tf.sum(tf.mul(single(dy), y), dim, true))) };
    },
  },
  {
    kernelName: tf.Sigmoid,
    inputsToSave: ["x"],
    gradFunc: (dy, s) => {
      const y = tf.sigmoid(saved(s, 0));
      return { x: () => tf.mul(single(dy), tf.mul(y, tf.sub(1, y))) };
    },
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ["x"],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const [begin, size] = tf.slice_util.parseSliceParams(
        x,
        numbers(attrs, "begin"),
        numbers(attrs, "size"),
      );
      const padding = x.shape.map((n, i): [number, number] => [
        begin?.[i] ?? 0,
        n - (begin?.[i] ?? 0) - (size?.[i] ?? 0),
      ]);
      return { x: () => tf.pad(single(dy), padding) };
    },
  },
  {
    kernelName: tf.Square,
    inputsToSave: ["x"],
    gradFunc: (dy, s) => ({ x: () => tf.mul(single(dy), tf.mul(saved(s, 0), 2)) }),
  },
  {
    // d/dx x^(-1/2) = −½ · x^(-3/2)
    kernelName: tf.Rsqrt,
    inputsToSave: ["x"],
    gradFunc: (dy, s) => ({ x: () => tf.mul(single(dy), tf.mul(tf.pow(saved(s, 0), -1.5), -0.5)) }),
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ["x"],
    gradFunc: (dy, s, attrs) => ({ x: () => spreadOverReduced(single(dy), saved(s, 0), attrs) }),
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ["x"],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const count = reducedAxes(attrs, x.shape).reduce((product, axis) => product * (x.shape[axis] ?? 1), 1);
      return { x: () => tf.div(spreadOverReduced(single(dy), x, attrs), count) };
    },
  },
];

let registered = false;

/**
 * Registers the gradients of the kernels the trainer's transformer runs, unless something (e.g. the
 * `@tensorflow/tfjs` bundle that tfjs-node loads) already did. Idempotent.
 */
export function registerTrainingGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of configs) if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
}
