import { describe, expect, it } from "vitest";
import { ModelSpecError } from "./errors/model-spec-error.js";
import { parseModelSpec } from "./spec.js";

describe("model spec strings", () => {
  it("parses each backend, adapters and options", () => {
    expect(parseModelSpec("llama:models/a.gguf")).toEqual({
      provider: "llama",
      model: "models/a.gguf",
      adapters: [],
      options: {},
    });
    expect(parseModelSpec("llama:base.gguf+one.gguf+two.gguf?threads=1&parallel=8")).toEqual({
      provider: "llama",
      model: "base.gguf",
      adapters: ["one.gguf", "two.gguf"],
      options: { threads: "1", parallel: "8" },
    });
    expect(parseModelSpec("llama:hf:bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0").model).toBe(
      "hf:bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0",
    );
    expect(parseModelSpec("openai:llama3.1:8b")).toEqual({
      provider: "openai",
      model: "llama3.1:8b",
      options: {},
    });
    expect(parseModelSpec("anthropic:claude-sonnet-4-5?baseUrl=http://127.0.0.1:9/v1").options).toEqual({
      baseUrl: "http://127.0.0.1:9/v1",
    });
  });

  it("rejects what it cannot read, saying what was expected", () => {
    for (const bad of ["model.gguf", "llama:", "gemini:pro", "llama:a.gguf+", ":x"]) {
      expect(() => parseModelSpec(bad)).toThrow(ModelSpecError);
    }
    expect(() => parseModelSpec("gemini:pro")).toThrow(/unknown backend "gemini".*Expected llama:/);
  });
});
