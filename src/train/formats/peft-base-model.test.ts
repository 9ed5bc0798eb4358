// The PEFT adapter's base_model_name_or_path: read from the base GGUF's metadata in the documented order,
// overridden by --base-model-id, and null with a warning naming the flag when the GGUF names no model.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type GgufPlain, type GgufValue, gguf } from "../../gguf/gguf-value.js";
import { makeTestModel } from "../../gguf/test-models/make-model.js";
import { runCli } from "../../test-support/run-cli.js";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { trainSft } from "../train-sft.js";
import { peftBaseModelOfMetadata, repoIdOfUrl } from "./peft-base-model.js";

const of = (entries: Record<string, GgufPlain>) => peftBaseModelOfMetadata((key) => entries[key]);

describe("peftBaseModelOfMetadata", () => {
  it("takes the model the GGUF was converted from first, then the card's single parent, then a repo-id name", () => {
    const source = "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/tree/main";
    const parent = {
      "general.base_model.count": 1,
      "general.base_model.0.repo_url": "https://huggingface.co/HuggingFaceTB/SmolLM2-135M",
      "general.name": "someone/other-name",
    };
    expect(of({ ...parent, "general.source.url": source })).toEqual({
      id: "HuggingFaceTB/SmolLM2-135M-Instruct",
      source: "general.source.url",
      parent: false,
    });
    expect(of({ ...parent, "general.source.repo_url": "https://hf.co/Qwen/Qwen2.5-0.5B" })?.id).toBe(
      "Qwen/Qwen2.5-0.5B",
    );
    expect(of({ ...parent, "general.source.huggingface.repository": "Org/Model-1B" })?.id).toBe(
      "Org/Model-1B",
    );
    // A source URL that is not a Hugging Face model falls through to the parent.
    expect(of({ ...parent, "general.source.url": "https://github.com/org/model" })).toEqual({
      id: "HuggingFaceTB/SmolLM2-135M",
      source: "general.base_model.0.repo_url",
      parent: true,
    });
    expect(
      of({
        "general.base_model.count": 1,
        "general.base_model.0.organization": "Qwen",
        "general.base_model.0.name": "Qwen2.5-0.5B",
      }),
    ).toEqual({
      id: "Qwen/Qwen2.5-0.5B",
      source: "general.base_model.0.organization and .name",
      parent: true,
    });
    // The converter's title-cased names ("Smollm2 135M") are no ids; a merge (two parents) has no single base.
    const titled = { "general.base_model.count": 1, "general.base_model.0.organization": "Huggingfacetb" };
    expect(of({ ...titled, "general.base_model.0.name": "Smollm2 135M" })).toBeUndefined();
    expect(of({ ...parent, "general.base_model.count": 2 })?.source).toBe("general.name");
    expect(of({ "general.name": "cai-tiny-seed1" })).toBeUndefined();
    expect(of({ "general.name": "SmolLM2 135M Instruct" })).toBeUndefined();
    expect(of({})).toBeUndefined();
  });

  it("reads only Hugging Face model URLs, and no GGUF-only repos", () => {
    expect(repoIdOfUrl("https://huggingface.co/meta-llama/Llama-3.2-1B")).toBe("meta-llama/Llama-3.2-1B");
    expect(repoIdOfUrl("https://www.huggingface.co/a/b.c_d?x=1#y")).toBe("a/b.c_d");
    for (const url of [
      "https://huggingface.co/datasets/org/set",
      "https://huggingface.co/spaces/org/app",
      "https://huggingface.co/only-org",
      "https://huggingface.co/bartowski/SmolLM2-135M-Instruct-GGUF",
      "https://example.com/org/model",
      "not a url",
    ])
      expect(repoIdOfUrl(url), url).toBeUndefined();
    expect(repoIdOfUrl(42)).toBeUndefined();
  });
});

describe("the PEFT adapter written by training", { timeout: 300_000 }, () => {
  let dir: string;
  let data: string;
  let plain: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(await testFolder(), "peft-base-"));
    data = path.join(dir, "sft.jsonl");
    const row = {
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
      ],
    };
    await writeFile(data, `${JSON.stringify(row)}\n`);
    plain = await testModel("tiny", "F32");
  });

  /** A tiny model with these extra metadata entries. */
  async function modelWith(name: string, metadata: [string, GgufValue][]): Promise<string> {
    const out = path.join(dir, `${name}.gguf`);
    await makeTestModel({ preset: "tiny", seed: 1, out, metadata });
    return out;
  }

  /** Trains one step with the library; returns the config's base and the warnings. */
  async function train(base: string, baseModelId?: string) {
    const warnings: string[] = [];
    const out = await mkdtemp(path.join(dir, "run-"));
    const result = await trainSft({
      base,
      data,
      out,
      steps: 1,
      rank: 2,
      ...(baseModelId === undefined ? {} : { baseModelId }),
      onWarning: (m) => warnings.push(m),
    });
    const config = JSON.parse(await readFile(result.peft?.config ?? "", "utf8")) as {
      base_model_name_or_path: string | null;
    };
    return { base: config.base_model_name_or_path, warnings };
  }

  it("names the repo the GGUF names, or null with a warning, and the option overrides both", async () => {
    const converted = await modelWith("converted", [
      ["general.source.url", gguf.str("https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct")],
      ["general.base_model.count", gguf.u32(1)],
      ["general.base_model.0.repo_url", gguf.str("https://huggingface.co/HuggingFaceTB/SmolLM2-135M")],
    ]);
    expect(await train(converted)).toEqual({ base: "HuggingFaceTB/SmolLM2-135M-Instruct", warnings: [] });

    const fineTune = await modelWith("fine-tune", [
      ["general.base_model.count", gguf.u32(1)],
      ["general.base_model.0.organization", gguf.str("Qwen")],
      ["general.base_model.0.name", gguf.str("Qwen2.5-0.5B")],
    ]);
    const fromParent = await train(fineTune);
    expect(fromParent.base).toBe("Qwen/Qwen2.5-0.5B");
    expect(fromParent.warnings).toHaveLength(1);
    expect(fromParent.warnings[0]).toMatch(
      /from general\.base_model\.0\.organization and \.name.*--base-model-id/,
    );

    const unknown = await train(plain);
    expect(unknown.base).toBeNull();
    expect(unknown.warnings).toHaveLength(1);
    expect(unknown.warnings[0]).toMatch(
      /names no Hugging Face model .*base_model_name_or_path null.*pass --base-model-id ORG\/NAME/,
    );

    expect(await train(converted, "me/my-base")).toEqual({ base: "me/my-base", warnings: [] });
  });

  it("cai train sft takes --base-model-id, and without it says on stderr that the base is unknown", async () => {
    const args = (out: string) => [
      ...["train", "sft", "--base", plain, "--data", data, "--out", path.join(dir, out)],
      ...["--steps", "1", "--rank", "2"],
    ];
    const configOf = async (out: string) =>
      (
        JSON.parse(await readFile(path.join(dir, out, "peft", "adapter_config.json"), "utf8")) as {
          base_model_name_or_path: string | null;
        }
      ).base_model_name_or_path;
    const [flagged, unflagged] = await Promise.all([
      runCli(...args("flagged"), "--base-model-id", "HuggingFaceTB/SmolLM2-135M"),
      runCli(...args("unflagged")),
    ]);
    expect(flagged.code).toBe(0);
    expect(await configOf("flagged")).toBe("HuggingFaceTB/SmolLM2-135M");
    expect(flagged.stderr).not.toContain("--base-model-id");
    expect(unflagged.code).toBe(0);
    expect(await configOf("unflagged")).toBeNull();
    expect(unflagged.stderr).toMatch(/^warning: .*base_model_name_or_path null.*--base-model-id/m);
  });
});
