// The PEFT adapter writer on the generated tiny models: the safetensors file, parsed by an independent
// minimal parser, holds exactly PEFT's tensor names, in PyTorch layout, with the trainer's values (Q/K rows
// of llama put back in HF order), and adapter_config.json has the keys PEFT reads.
import { mkdtemp, readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora, type LoraAdapter, type LoraTarget, loraTargets } from "../model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import { ggufRowOfHfRow, writePeftAdapter } from "./export-peft-adapter.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from "./safetensors.js";

interface ParsedTensor {
  dtype: string;
  shape: number[];
  values: Float32Array;
}

/** An independent minimal safetensors parser that checks the layout strictly as it goes. */
function parseSafetensors(file: Buffer): { tensors: Map<string, ParsedTensor>; metadata: unknown } {
  const headerLength = Number(file.readBigUInt64LE(0));
  expect((8 + headerLength) % 8).toBe(0);
  const headerText = file.subarray(8, 8 + headerLength).toString("utf8");
  const header = JSON.parse(headerText) as Record<string, unknown>;
  expect(headerText.trimEnd().endsWith("}")).toBe(true);
  const dataStart = 8 + headerLength;
  const entries = Object.entries(header)
    .filter(([name]) => name !== "__metadata__")
    .map(([name, entry]) => ({
      name,
      ...(entry as { dtype: string; shape: number[]; data_offsets: number[] }),
    }))
    .sort((x, y) => x.data_offsets[0]! - y.data_offsets[0]!);
  const tensors = new Map<string, ParsedTensor>();
  let expected = 0;
  for (const {
    name,
    dtype,
    shape,
    data_offsets: [begin, end],
  } of entries) {
    expect(begin).toBe(expected);
    expect(end! - begin!).toBe(shape.reduce((p, n) => p * n, 1) * 4);
    expect(dataStart + end!).toBeLessThanOrEqual(file.length);
    const values = new Float32Array(shape.reduce((p, n) => p * n, 1));
    for (let i = 0; i < values.length; i += 1) values[i] = file.readFloatLE(dataStart + begin! + i * 4);
    tensors.set(name, { dtype, shape, values });
    expected = end!;
  }
  expect(dataStart + expected).toBe(file.length);
  return { tensors, metadata: header.__metadata__ };
}

const hfNames: Record<LoraTarget, string> = {
  attn_q: "self_attn.q_proj",
  attn_k: "self_attn.k_proj",
  attn_v: "self_attn.v_proj",
  attn_output: "self_attn.o_proj",
  ffn_gate: "mlp.gate_proj",
  ffn_up: "mlp.up_proj",
  ffn_down: "mlp.down_proj",
};

// tiny: dim 64, 4 heads of 16, 2 KV heads (kv dim 32), ffn 128.
const dims: Record<LoraTarget, [number, number]> = {
  attn_q: [64, 64],
  attn_k: [64, 32],
  attn_v: [64, 32],
  attn_output: [64, 64],
  ffn_gate: [64, 128],
  ffn_up: [64, 128],
  ffn_down: [128, 64],
};

/** llama.cpp's `permute` (HF → GGUF row order) of a PyTorch [out, r] matrix, as convert_hf_to_gguf.py does. */
function ggufPermute(values: Float32Array, shape: number[], heads: number): Float32Array {
  const [rows, cols] = shape as [number, number];
  const permuted = tf.tidy(() => {
    const hf = tf.reshape(tf.tensor2d(values, [rows, cols]), [heads, 2, rows / heads / 2, cols]);
    return tf.reshape(tf.transpose(hf, [0, 2, 1, 3]), [rows, cols]);
  });
  const result = Float32Array.from(permuted.dataSync());
  permuted.dispose();
  return result;
}

/** The values of `t`ᵀ, read through tfjs. */
function transposedValues(t: tf.Tensor2D): Float32Array {
  const transposed = tf.transpose(t);
  const result = Float32Array.from(transposed.dataSync());
  transposed.dispose();
  return result;
}

describe.each(["tiny", "tiny-qwen2"] as const)("writePeftAdapter (%s)", (preset) => {
  let weights: TransformerWeights;
  let lora: LoraAdapter;
  let dir: string;

  beforeAll(async () => {
    await initTrainingBackend();
    weights = await loadWeights(await testModel(preset, "F32"));
    lora = createLora(weights, { rank: 4, alpha: 8, seed: 3 });
    for (const block of lora.blocks)
      for (const target of loraTargets) {
        const pair = block[target]!;
        const random = tf.randomNormal<tf.Rank.R2>(pair.b.shape, 0, 1, "float32", 11);
        pair.b.assign(random);
        random.dispose();
      }
    dir = await mkdtemp(path.join(await testFolder(), `peft-${preset}-`));
  });
  afterAll(() => {
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
  });

  it("writes PEFT's tensors in PyTorch layout with the trainer's values", async () => {
    const written = await writePeftAdapter(path.join(dir, "adapter"), lora, {
      ...weights.config,
      baseModelName: "test/base",
    });
    const { tensors, metadata } = parseSafetensors(await readFile(written.weights));
    expect(metadata).toEqual({ format: "pt" });
    const expectedNames: string[] = [];
    for (const [layer, block] of lora.blocks.entries())
      for (const target of loraTargets) {
        const prefix = `base_model.model.model.layers.${layer}.${hfNames[target]}`;
        expectedNames.push(`${prefix}.lora_A.weight`, `${prefix}.lora_B.weight`);
        const [inputs, outputs] = dims[target];
        const a = tensors.get(`${prefix}.lora_A.weight`)!;
        const b = tensors.get(`${prefix}.lora_B.weight`)!;
        expect([a.dtype, b.dtype]).toEqual(["F32", "F32"]);
        expect(a.shape).toEqual([4, inputs]);
        expect(b.shape).toEqual([outputs, 4]);
        const pair = block[target]!;
        const [aT, bT] = [transposedValues(pair.a), transposedValues(pair.b)];
        expect(a.values).toEqual(aT);
        const heads =
          preset === "tiny" && target === "attn_q" ? 4 : preset === "tiny" && target === "attn_k" ? 2 : 0;
        const bInGgufOrder = heads ? ggufPermute(b.values, b.shape, heads) : b.values;
        expect(bInGgufOrder).toEqual(bT);
        if (heads) expect(b.values).not.toEqual(bT);
      }
    expect([...tensors.keys()].sort()).toEqual(expectedNames.sort());
    expect(written.tensors).toBe(2 * 7 * 2);

    const config = JSON.parse(await readFile(written.config, "utf8")) as unknown;
    expect(config).toEqual({
      peft_type: "LORA",
      task_type: "CAUSAL_LM",
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
      bias: "none",
      fan_in_fan_out: false,
      base_model_name_or_path: "test/base",
      inference_mode: true,
      use_rslora: false,
      modules_to_save: null,
      init_lora_weights: true,
      layers_to_transform: null,
      revision: null,
    });

    const back = await readSafetensors(written.weights);
    expect(back.metadata).toEqual({ format: "pt" });
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, tensor] of tensors) {
      const read = back.tensors.get(name)!;
      expect(read.shape).toEqual(tensor.shape);
      expect(read.data).toEqual(tensor.values);
    }
  });

  it("records only the adapted modules and the given dropout", async () => {
    const partial = createLora(weights, { rank: 2, targets: ["ffn_down", "attn_v"] });
    try {
      const written = await writePeftAdapter(path.join(dir, "partial"), partial, {
        ...weights.config,
        loraDropout: 0.05,
      });
      const config = JSON.parse(await readFile(written.config, "utf8")) as Record<string, unknown>;
      expect(config.target_modules).toEqual(["v_proj", "down_proj"]);
      expect(config.lora_dropout).toBe(0.05);
      expect(config.base_model_name_or_path).toBeNull();
      const { tensors } = parseSafetensors(await readFile(written.weights));
      expect([...tensors.keys()].filter((n) => !/(v_proj|down_proj)\.lora_[AB]\.weight$/.test(n))).toEqual(
        [],
      );
      expect(tensors.size).toBe(2 * 2 * 2);
    } finally {
      disposeLora(partial);
    }
  });
});

describe("safetensors", () => {
  it("round-trips tensors and metadata, and aligns the data to 8 bytes", async () => {
    const tensors = [
      { name: "z", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -7]) },
      { name: "a.b", shape: [1], data: Float32Array.from([42]) },
      { name: "empty", shape: [0, 4], data: new Float32Array(0) },
    ];
    const bytes = encodeSafetensors(tensors, { format: "pt", note: "é" });
    expect((8 + Number(Buffer.from(bytes).readBigUInt64LE(0))) % 8).toBe(0);
    const file = path.join(await testFolder(), "round-trip.safetensors");
    await writeSafetensors(file, tensors, { format: "pt", note: "é" });
    const back = await readSafetensors(file);
    expect(back.metadata).toEqual({ format: "pt", note: "é" });
    expect(
      [...back.tensors.entries()].map(([name, t]) => [name, t.dtype, t.shape, Array.from(t.data)]),
    ).toEqual(tensors.map((t) => [t.name, "F32", t.shape, Array.from(t.data)]));
  });

  it("decodes F16 and BF16 and rejects malformed files", () => {
    const header = (json: string, data: number[]): Uint8Array => {
      const text = Buffer.from(json);
      const out = Buffer.alloc(8 + text.length + data.length);
      out.writeBigUInt64LE(BigInt(text.length));
      text.copy(out, 8);
      Buffer.from(data).copy(out, 8 + text.length);
      return out;
    };
    // 1.0 in F16 is 0x3c00; -2.0 in BF16 is 0xc000.
    const good = header(
      '{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}}',
      [0x00, 0x3c, 0x00, 0xc0],
    );
    const parsed = decodeSafetensors(good);
    expect(Array.from(parsed.tensors.get("h")!.data)).toEqual([1]);
    expect(Array.from(parsed.tensors.get("b")!.data)).toEqual([-2]);
    expect(() =>
      decodeSafetensors(header('{"h":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0])),
    ).toThrow(/out of range/);
    expect(() =>
      decodeSafetensors(header('{"h":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}', [0])),
    ).toThrow(/dtype/);
    expect(() => decodeSafetensors(header("{", []))).toThrow(/not JSON/);
    expect(() => encodeSafetensors([{ name: "x", shape: [2], data: new Float32Array(3) }])).toThrow(
      /3 values/,
    );
  });

  it("maps HF rows to llama.cpp's permuted rows", () => {
    // One head of 4: HF rows [0, 1 | 2, 3] pair (0, 2) and (1, 3); GGUF interleaves them as 0, 2, 1, 3.
    expect(Array.from(ggufRowOfHfRow(4, 1))).toEqual([0, 2, 1, 3]);
    expect(Array.from(ggufRowOfHfRow(8, 2))).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
  });
});
