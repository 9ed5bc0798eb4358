// Works around a race between node-llama-cpp 3.21.1 and llama.cpp that hands one sequence's logits to
// another. When a batch holds several sequences, llama.cpp may compute their outputs out of batch order
// and records the swaps that restore it, applying them lazily on the first read of the logits
// (`output_reorder`, not thread-safe). node-llama-cpp reads the logits of every sequence in a batch at
// once, one native worker thread each (`sampleToken`), so two threads can apply the swaps together and
// undo them: measured here, 7 of 320 concurrent scorings at 8 parallel sequences got a neighbour's
// distribution (and under CPU load at 2). No option of either library avoids it, so reads of one
// context's logits are made one at a time; decoding stays batched.
import type { LlamaContext } from "node-llama-cpp";

/** The native context's sampling entry point (a private field of node-llama-cpp 3.21.1's LlamaContext). */
interface NativeSampling {
  sampleToken: (...args: unknown[]) => unknown;
}

/** Makes `context`'s native logit reads run one after another; returns false when the shape is unknown. */
export function serializeSampling(context: LlamaContext): boolean {
  const native = (context as unknown as { _ctx?: NativeSampling })._ctx;
  if (!native || typeof native.sampleToken !== "function" || !Object.isExtensible(native)) return false;
  const sample = native.sampleToken.bind(native);
  let previous: Promise<unknown> = Promise.resolve();
  // The native method is a read-only property of the addon's prototype: shadow it on this object.
  Object.defineProperty(native, "sampleToken", {
    value: (...args: unknown[]) => {
      const result = previous.then(() => sample(...args));
      previous = result.catch(() => undefined);
      return result;
    },
  });
  return true;
}
