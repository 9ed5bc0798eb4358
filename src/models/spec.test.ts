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

  it("refuses unknown options and values that cannot be meant, naming them, before anything loads", () => {
    const message = (spec: string) => {
      try {
        parseModelSpec(spec);
      } catch (error) {
        expect(error).toBeInstanceOf(ModelSpecError);
        return (error as Error).message;
      }
      return "accepted";
    };
    expect(message("llama:m.gguf?foo=1")).toBe(
      'invalid model spec "llama:m.gguf?foo=1": unknown option "foo"; llama: takes threads, context, parallel, scale, cpu, exactKv, deterministic',
    );
    expect(message("openai:m?threads=1")).toMatch(/unknown option "threads"; openai: takes baseUrl$/);
    expect(message("llama:m.gguf?context=-5")).toMatch(/option context=-5 must be a whole number ≥ 16$/);
    expect(message("llama:m.gguf?threads=1.5")).toMatch(/option threads=1\.5 must be a whole number ≥ 1$/);
    expect(message("llama:m.gguf?threads=")).toMatch(/option threads= must be a whole number/);
    expect(message("llama:m.gguf?scale=Infinity")).toMatch(/option scale=Infinity must be a number$/);
    expect(message("llama:m.gguf?deterministic=yes")).toMatch(
      /option deterministic=yes must be true or false \(or 1 or 0\)$/,
    );
    expect(message("llama:m.gguf?deterministic=0")).toBe("accepted");
    expect(message("llama:m.gguf?cpu=yes")).toMatch(/option cpu=yes must be true or false/);
    expect(message("llama:m.gguf?threads=1&threads=2")).toMatch(/option threads is given twice$/);
    expect(message("openai:m?baseUrl=notaurl")).toMatch(/option baseUrl=notaurl is not a URL/);
    expect(message("anthropic:m?baseUrl=ftp://x/v1")).toMatch(/is a ftp: URL, not http: or https:$/);
    expect(message("llama:m.gguf?threads=2&context=4096&scale=-0.5&cpu&exactKv=1")).toBe("accepted");
  });
});
