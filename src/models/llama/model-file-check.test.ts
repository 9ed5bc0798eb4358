// Damaged `llama:` model and adapter files are refused by cai's own GGUF check before node-llama-cpp sees
// them: a ModelLoadError naming the file, and through the real CLI one line and exit code 2.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GgufFormatError } from "../../gguf/gguf-format-error.js";
import {
  type CorruptionKind,
  corruptionKinds,
  writeCorruptModels,
} from "../../gguf/test-models/corrupt-models.js";
import { runCli } from "../../test-support/run-cli.js";
import { testAdapter, testFolder, testModel } from "../../test-support/test-models.js";
import { ModelLoadError } from "../errors/model-load-error.js";
import { checkLlamaFiles } from "./model-file-check.js";

/** What the one line on stderr says for each kind of damage (after `cai: cannot load FILE: `). */
const expected: Record<CorruptionKind, RegExp> = {
  truncated: /invalid GGUF file: the data of tensor ".+" .* extends past the end of the file/,
  "huge-string-length":
    /invalid GGUF file: the length of metadata "general\.name" is 4611686018427387904 bytes, but only 12 bytes remain/,
  "tensor-count-plus-one": /invalid GGUF file: .*(tensor|dimensions)/,
  "tensor-data-past-end":
    /invalid GGUF file: the data of tensor "blk\.1\.ffn_down\.weight" .* extends past the end/,
  "missing-architecture": /invalid GGUF file: general\.architecture is missing/,
  "not-gguf": /invalid GGUF file: the file starts with "<!DO" instead of "GGUF": not a GGUF file/,
};

let base: string;
let adapter: string;
let damagedModels: Record<CorruptionKind, string>;
let damagedAdapters: Record<CorruptionKind, string>;

beforeAll(async () => {
  base = await testModel("tiny", "F32");
  adapter = await testAdapter(base);
  const dir = path.join(await testFolder(), "damaged");
  await mkdir(dir, { recursive: true });
  damagedModels = await writeCorruptModels(base, dir, "model");
  damagedAdapters = await writeCorruptModels(adapter, dir, "adapter");
});

async function refusal(files: string[]): Promise<ModelLoadError> {
  const [model = "", ...adapters] = files;
  const error = await checkLlamaFiles(model, adapters).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!ModelLoadError.isInstance(error)) throw new Error(`expected a ModelLoadError, got ${String(error)}`);
  return error;
}

describe("checkLlamaFiles", () => {
  it("passes a good model and its adapter", async () => {
    await expect(checkLlamaFiles(base, [adapter])).resolves.toBeUndefined();
  });

  it("refuses every kind of damaged model and adapter, naming the file", async () => {
    for (const kind of corruptionKinds) {
      for (const [file, files] of [
        [damagedModels[kind], [damagedModels[kind]]],
        [damagedAdapters[kind], [base, damagedAdapters[kind]]],
      ] as const) {
        const error = await refusal([...files]);
        expect(error.path, kind).toBe(file);
        expect(GgufFormatError.isInstance(error.cause), kind).toBe(true);
        expect(error.message, kind).toContain(`cannot load ${file}: invalid GGUF file: `);
      }
      expect((await refusal([damagedModels[kind]])).message).toMatch(expected[kind]);
    }
  });

  it("catches a tensor count one too high even where the extra info reads as a tensor inside the file", async () => {
    // In the adapter, the padding after the tensor infos reads as a nameless F32 scalar at offset 0:
    // GGUF-wise plausible, but not where llama.cpp wants the data of a tensor after the others.
    const error = await refusal([base, damagedAdapters["tensor-count-plus-one"]]);
    expect(error.message).toMatch(/tensor "" starts at offset 0 .* where llama\.cpp expects \d+/);
  });

  it("refuses a model given as an adapter, an adapter given as a model, and a missing file", async () => {
    expect((await refusal([base, base])).message).toMatch(/general\.type is missing, not "adapter"/);
    expect((await refusal([adapter])).message).toMatch(/this is a LoRA adapter, not a model/);
    const missing = path.join(await testFolder(), "no-such-model.gguf");
    expect((await refusal([missing])).message).toBe(`cannot load ${missing}: no such file`);
  });

  it("does not remember a refusal: a file repaired in place passes", async () => {
    const file = path.join(await testFolder(), "damaged", "repaired.gguf");
    await writeFile(file, "not a model yet");
    expect((await refusal([file])).message).toMatch(/not a GGUF file/);
    await writeFile(file, await readFile(base));
    await expect(checkLlamaFiles(file)).resolves.toBeUndefined();
  });
});

// Several CLI processes each (run side by side): allow for a busy two-core machine.
describe("cai models check on a damaged file", { timeout: 300_000 }, () => {
  /** Runs `cai models check SPEC` and returns its one line of stderr after checking the exit code. */
  async function refusedLine(spec: string): Promise<string> {
    const result = await runCli("models", "check", spec, "--threads", "1", "--no-cache");
    expect(result.code, spec).toBe(2);
    expect(result.stdout, spec).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines, spec).toHaveLength(1);
    return lines[0] ?? "";
  }

  it("exits 2 with one line naming the model file, for every kind of damage", async () => {
    const lines = await Promise.all(
      corruptionKinds.map((kind) => refusedLine(`llama:${damagedModels[kind]}`)),
    );
    corruptionKinds.forEach((kind, i) => {
      expect(lines[i]).toMatch(new RegExp(`^cai: cannot load ${damagedModels[kind]}: `));
      expect(lines[i]).toMatch(expected[kind]);
    });
  });

  it("turns llama.cpp's own refusal of a well-formed file into one line naming the file", async () => {
    // A well-formed GGUF whose architecture llama.cpp does not know: only llama.cpp can refuse it.
    const bytes = await readFile(base);
    const at = bytes.indexOf("llama", bytes.indexOf("general.architecture"));
    const unknown = path.join(await testFolder(), "damaged", "unknown-architecture.gguf");
    await writeFile(
      unknown,
      Buffer.concat([bytes.subarray(0, at), Buffer.from("llamb"), bytes.subarray(at + 5)]),
    );
    const result = await runCli("models", "check", `llama:${unknown}`, "--threads", "1", "--no-cache");
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^cai: cannot load ${unknown}: Failed to load model \\(llama\\.cpp: .*unknown model architecture: 'llamb'`,
        ),
      ),
    ]);
  });

  it("exits 2 with one line naming a damaged adapter", async () => {
    const kinds = ["tensor-count-plus-one", "huge-string-length", "truncated"] as const;
    const lines = await Promise.all(
      kinds.map((kind) => refusedLine(`llama:${base}+${damagedAdapters[kind]}`)),
    );
    kinds.forEach((kind, i) => {
      expect(lines[i]).toMatch(new RegExp(`^cai: cannot load ${damagedAdapters[kind]}: invalid GGUF file: `));
    });
  });
});
