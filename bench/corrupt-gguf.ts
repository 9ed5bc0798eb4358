// `npm run bench:gguf`: how fast damaged `llama:` files are refused. For each kind of damage (model and
// adapter): `cai models check` end to end (wall time, peak RSS, exit code) next to `cai --version` (the
// CLI's own start-up floor), and the check alone in-process; then the check on the SmolLM2-135M-shaped
// bench model and on an 8 GiB sparse GGUF, which must not be read. Prints a table; asserts nothing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gguf } from "../src/gguf/gguf-value.js";
import { corruptionKinds, writeCorruptModels } from "../src/gguf/test-models/corrupt-models.js";
import { makeRandomLora } from "../src/gguf/test-models/make-lora.js";
import { makeTestModel } from "../src/gguf/test-models/make-model.js";
import { writeGguf } from "../src/gguf/writer.js";
import { checkLlamaFiles } from "../src/models/llama/model-file-check.js";
import { benchModelFile } from "./bench-model.js";

const main = path.resolve(import.meta.dirname, "../src/cli/main.ts");
const timeTool = "/usr/bin/time"; // GNU time: the child's peak RSS; without it only wall time is shown

interface CliRun {
  seconds: number;
  peakMb: number | undefined;
  code: number;
  line: string;
}

/** Runs the CLI once; wall time, peak RSS (with GNU time) and the first line of stderr. */
async function cli(...args: string[]): Promise<CliRun> {
  const withTime = existsSync(timeTool);
  const command = withTime ? timeTool : process.execPath;
  const argv = [...(withTime ? ["-f", "rss-kb %M", process.execPath] : []), "--import", "tsx", main, ...args];
  const started = performance.now();
  const result = await promisify(execFile)(command, argv, { env: { ...process.env, CAI_DEBUG: "" } }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  const seconds = (performance.now() - started) / 1000;
  const rss = /rss-kb (\d+)/.exec(result.stderr)?.[1];
  const lines = result.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("rss-kb"));
  const line = lines.filter((l) => !l.startsWith("Command exited"))[0] ?? "";
  return { seconds, peakMb: rss === undefined ? undefined : Number(rss) / 1024, code: result.code, line };
}

/** The check alone, in this process: milliseconds, and "passes" or its error. */
async function checkAlone(model: string, adapters: string[] = []): Promise<{ ms: number; outcome: string }> {
  const started = performance.now();
  const outcome = await checkLlamaFiles(model, adapters).then(
    () => "passes",
    (error: unknown) => (error instanceof Error ? error.message.replace(/^cannot load [^:]+: /, "") : "?"),
  );
  return { ms: performance.now() - started, outcome };
}

/** A valid GGUF whose one tensor declares 8 GiB of data, the file extended to that size without writing it. */
async function sparseHugeModel(file: string): Promise<void> {
  const rows = 2 ** 25;
  await writeGguf(file, {
    metadata: [["general.architecture", gguf.str("llama")]],
    tensors: [{ name: "w", shape: [64, 1], type: "F32", data: new Float32Array(64) }],
  });
  // Patch the tensor's second dimension (the u64 after ne0 = 64) to 2^25 rows, then extend the file.
  const bytes = await readFile(file);
  const ne0 = Buffer.alloc(8);
  ne0.writeBigUInt64LE(64n);
  const at = bytes.indexOf(ne0) + 8;
  const handle = await open(file, "r+");
  try {
    const ne1 = Buffer.alloc(8);
    ne1.writeBigUInt64LE(BigInt(rows));
    await handle.write(ne1, 0, 8, at);
    await handle.truncate(bytes.length - 64 * 4 + 64 * rows * 4);
  } finally {
    await handle.close();
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), "cai-bench-gguf-"));
try {
  const base = path.join(dir, "tiny.gguf");
  const adapter = path.join(dir, "lora.gguf");
  await makeTestModel({ preset: "tiny", seed: 1, out: base });
  await makeRandomLora({ base, rank: 4, seed: 7, out: adapter });
  const models = await writeCorruptModels(base, dir, "model");
  const adapters = await writeCorruptModels(adapter, dir, "adapter");

  const floor = await cli("--version");
  const row = (name: string, run: CliRun, alone: { ms: number }) =>
    console.log(
      `| ${name} | ${run.seconds.toFixed(2)} | ${run.peakMb?.toFixed(0) ?? "?"} | ${run.code} | ` +
        `${alone.ms.toFixed(1)} | ${run.line.slice(0, 90)} |`,
    );
  console.log("| file | CLI s | CLI peak RSS MB | exit | check alone ms | stderr |");
  console.log("|---|---|---|---|---|---|");
  console.log(
    `| (cai --version: start-up floor) | ${floor.seconds.toFixed(2)} | ${floor.peakMb?.toFixed(0) ?? "?"} | ${floor.code} | – | |`,
  );
  for (const kind of corruptionKinds) {
    const spec = `llama:${models[kind]}`;
    row(
      `model ${kind}`,
      await cli("models", "check", spec, "--threads", "1", "--no-cache"),
      await checkAlone(models[kind]),
    );
  }
  for (const kind of corruptionKinds) {
    const spec = `llama:${base}+${adapters[kind]}`;
    const alone = await checkAlone(base, [adapters[kind]]);
    row(`adapter ${kind}`, await cli("models", "check", spec, "--threads", "1", "--no-cache"), alone);
  }

  const huge = path.join(dir, "sparse-8gib.gguf");
  await sparseHugeModel(huge);
  const real = await benchModelFile("Q8_0");
  const before = process.resourceUsage().maxRSS;
  for (const [name, file] of [
    ["SmolLM2-135M-shaped Q8_0 (49k-token vocabulary)", real],
    ["8 GiB sparse GGUF (data never read)", huge],
  ] as const) {
    const alone = await checkAlone(file);
    console.log(`check alone, ${name}: ${alone.ms.toFixed(1)} ms, ${alone.outcome}`);
  }
  const grew = (process.resourceUsage().maxRSS - before) / 1024;
  console.log(`peak RSS of this process grew by ${grew.toFixed(0)} MB over those two checks`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
