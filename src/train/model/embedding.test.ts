// The embedding lookup's custom gradient, on the backend the trainer uses (wasm here).
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, expect, it } from "vitest";
import { initTrainingBackend } from "./backend.js";
import { embeddingLookup } from "./embedding.js";

beforeAll(async () => {
  await initTrainingBackend();
});

it("looks rows up and sends gradients back to the rows used", () => {
  const table = tf.tensor2d([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const ids = [2, 0, 2];
  const upstream = tf.tensor2d([
    [1, 10],
    [100, 1000],
    [2, 20],
  ]);
  expect(embeddingLookup(table, ids).arraySync()).toEqual([
    [5, 6],
    [1, 2],
    [5, 6],
  ]);
  // tf.grad with an explicit upstream gradient exercises only the custom gradient: tfjs-core alone
  // registers no gradients for its built-in kernels (see gradients.ts).
  const grad = tf.grad((t: tf.Tensor) => embeddingLookup(t as tf.Tensor2D, ids))(table, upstream);
  expect(grad.arraySync()).toEqual([
    [100, 1000],
    [0, 0],
    [3, 30],
  ]);
  tf.dispose([table, upstream, grad]);
});
