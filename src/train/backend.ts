// Picks the tfjs backend the trainer runs on: tfjs-node when the user installed it, else single-threaded
// wasm (SIMD), else the plain JS cpu backend. Call it once before making any tensor.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../errors/cai-error.js";
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
    return await trySetBackend("wasm");
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
