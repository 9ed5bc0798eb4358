// Picks llama.cpp's thread count by measuring it. On small CPUs the right count depends on the model
// size and the weight type (FACTS.md: 1 thread decoded a tiny model 40x faster than 2 here, while 2 won
// for F16 at 135M), so a rule of thumb is wrong somewhere; a short timed decode per candidate is not.
// The result is kept per model file, so the measurement runs once.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Llama, LlamaModel } from "node-llama-cpp";
import { caiCacheDir } from "../../config/cache-dir.js";

/** Decode speed measured at each candidate thread count. */
export interface ThreadMeasurement {
  threads: number;
  /** Tokens per second at each candidate count. */
  tokensPerSecond: Record<string, number>;
}

const decodeTokens = 24;

function cacheFile(): string {
  return path.join(caiCacheDir(), "threads.json");
}

async function readCache(): Promise<Record<string, ThreadMeasurement>> {
  try {
    return JSON.parse(await readFile(cacheFile(), "utf8")) as Record<string, ThreadMeasurement>;
  } catch {
    return {};
  }
}

async function timeDecode(model: LlamaModel, threads: number): Promise<number> {
  const context = await model.createContext({
    contextSize: 256,
    sequences: 1,
    threads,
    flashAttention: false,
  });
  try {
    const sequence = context.getSequence();
    const prompt = model
      .tokenize("The quick brown fox jumps over the lazy dog. ".repeat(2), false)
      .slice(0, 24);
    if (prompt.length === 0) return 0;
    let started = 0;
    let produced = 0;
    for await (const _ of sequence.evaluate(prompt, { temperature: 0 })) {
      if (produced === 0) started = performance.now();
      produced += 1;
      if (produced > decodeTokens) break;
    }
    return (decodeTokens * 1000) / Math.max(performance.now() - started, 1e-3);
  } finally {
    await context.dispose();
  }
}

/**
 * The fastest thread count for single-stream decoding of `model`, measured once per file identity
 * and remembered in the cai cache directory. Ties (within 3%) go to fewer threads.
 */
export async function chooseThreads(
  llama: Llama,
  model: LlamaModel,
  fileKey: string,
): Promise<ThreadMeasurement> {
  const cache = await readCache();
  const known = cache[fileKey];
  if (known) return known;
  const candidates = Array.from({ length: Math.max(1, llama.cpuMathCores) }, (_, i) => i + 1);
  const tokensPerSecond: Record<string, number> = {};
  let best = 1;
  for (const threads of candidates) {
    const speed = await timeDecode(model, threads);
    tokensPerSecond[threads] = speed;
    if (speed > (tokensPerSecond[best] ?? 0) * 1.03) best = threads;
  }
  const measurement = { threads: best, tokensPerSecond };
  try {
    await mkdir(path.dirname(cacheFile()), { recursive: true });
    const tmp = `${cacheFile()}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ ...(await readCache()), [fileKey]: measurement }, null, 2));
    await rename(tmp, cacheFile());
  } catch {
    // A read-only cache directory only costs a re-measurement next time.
  }
  return measurement;
}
