// Token-embedding lookup and one-hot rows that stay differentiable on tfjs-wasm, where `tf.gather` has
// no gradient kernel and `tf.oneHot` ignores its dtype.
import * as tf from "@tensorflow/tfjs-core";

/**
 * Rows of `table` [vocab, dim] for token `ids`, differentiable on every backend. Forward: a plain gather
 * (cheap). Gradient: a one-hot product, ids × vocab × dim multiply-adds and an ids × vocab one-hot, paid
 * only when the table itself is trained (LoRA training never asks for it).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: number[]): tf.Tensor2D {
  const lookup = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc) => {
    if (typeof t === "function") throw new Error("customGrad passed a save function for the table");
    const value = tf.gather(t, tf.tensor1d(ids, "int32"));
    const gradFunc = (dy: tf.Tensor): tf.Tensor => {
      // [vocab, n] · [n, dim], transposed explicitly: matMul's transpose flags are slow on wasm.
      const oneHotT = tf.transpose(oneHotFloat(tf.tensor1d(ids, "int32"), table.shape[0]));
      return tf.matMul(oneHotT, dy);
    };
    return { value, gradFunc };
  });
  return lookup(table) as tf.Tensor2D;
}

/**
 * One-hot float32 rows. Built as int32 and cast: the wasm OneHot kernel (tfjs 4.22) writes int32 data
 * whatever dtype it is asked for, so `tf.oneHot(…, "float32")` reads back as garbage there.
 */
export function oneHotFloat<R extends tf.Rank>(indices: tf.Tensor<R>, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(indices, depth), "float32");
}
