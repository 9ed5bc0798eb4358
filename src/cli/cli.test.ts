import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli.js";
import { testFolder } from "../test-support/test-models.js";

const cai = runCli;

describe("cai command line", () => {
  it("makes a tiny model and a LoRA for it, inspects them, and checks the model", async () => {
    const dir = await testFolder();
    const model = path.join(dir, "cli-tiny.gguf");
    const lora = path.join(dir, "cli-tiny-lora.gguf");
    const made = await cai(
      "dev",
      "make-model",
      "--preset",
      "tiny",
      "--type",
      "q8_0",
      "--seed",
      "3",
      "--out",
      model,
    );
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/wrote .*cli-tiny\.gguf: tiny, Q8_0/);
    expect((await stat(model)).size).toBeLessThan(1024 * 1024);
    expect((await cai("dev", "make-lora", "--base", model, "--rank", "2", "--out", lora)).code).toBe(0);

    const inspected = await cai("gguf", "inspect", model);
    expect(inspected.stdout).toContain('general.architecture = "llama"');
    expect(inspected.stdout).toMatch(/tensor token_embd\.weight Q8_0 \[64, 512\]/);

    const cacheFile = path.join(dir, "cli-calls.sqlite");
    const checked = await cai(
      "models",
      "check",
      `llama:${model}`,
      "--threads",
      "1",
      "--cache-file",
      cacheFile,
    );
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/cache\s+0 hits, 2 misses/);
    expect(checked.stdout).toMatch(/backend\s+llama/);
    expect(checked.stdout).toMatch(/capabilities\s+generate, scoreChoices \(exact\), logLikelihood/);
    const [, a, b] = /P\(A\) vs P\(B\)\s+([\d.]+) vs ([\d.]+)/.exec(checked.stdout) ?? [];
    expect(Number(a) + Number(b)).toBeCloseTo(1, 3);

    // The same deterministic calls again: all answered from the cache; --no-cache calls the model.
    const rerun = await cai("models", "check", `llama:${model}`, "--threads", "1", "--cache-file", cacheFile);
    expect(rerun.stdout).toMatch(/cache\s+2 hits, 0 misses/);
    const answers = (out: string) => [
      /completion\s+(".*") \(/.exec(out)?.[1],
      /P\(A\) vs P\(B\).*/.exec(out)?.[0],
    ];
    expect(answers(rerun.stdout)).toEqual(answers(checked.stdout));
    const uncached = await cai("models", "check", `llama:${model}`, "--threads", "1", "--no-cache");
    expect(uncached.stdout).toMatch(/cache\s+off/);

    const adapted = await cai("models", "check", `llama:${model}+${lora}?threads=1`);
    expect(adapted.code).toBe(0);
    expect(adapted.stdout).toContain(lora);
    expect(/P\(A\) vs P\(B\)\s+([\d.]+)/.exec(adapted.stdout)?.[1]).not.toBe(a);
  });

  it("bad input gets one clear line and a non-zero exit, never a stack trace", async () => {
    const dir = await testFolder();
    const notGguf = path.join(dir, "not-a-model.gguf");
    await writeFile(notGguf, "this is not a model file at all");
    const cases: Array<[string[], RegExp]> = [
      [
        ["dev", "make-model", "--preset", "huge", "--out", path.join(dir, "x.gguf")],
        /--preset must be one of tiny/,
      ],
      [["gguf", "inspect", notGguf], /not-a-model\.gguf.*not a GGUF file/],
      [["models", "check", "gemini:pro"], /unknown backend "gemini"/],
      [
        ["models", "check", `llama:${path.join(dir, "missing.gguf")}`],
        /cannot load .*missing\.gguf: no such file/,
      ],
      [["models", "check", "llama:x.gguf", "--threads", "two"], /--threads must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const result = await cai(...args);
      expect(result.code, args.join(" ")).not.toBe(0);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
