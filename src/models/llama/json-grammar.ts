// JSON output for the `llama:` backend: `format` (any JSON object, or JSON matching a schema) as a
// llama.cpp grammar built by node-llama-cpp, so every sampled token keeps the text valid. Grammars are
// built once per schema and model runtime.
import { type Llama, type LlamaGrammar, LlamaGrammarEvaluationState, type LlamaModel } from "node-llama-cpp";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import type { OutputFormat } from "../model.js";

const grammars = new WeakMap<Llama, Map<string, Promise<LlamaGrammar>>>();

/** The grammar of `format`, or an InvalidRequestError when node-llama-cpp cannot express the schema. */
export function jsonGrammar(llama: Llama, format: OutputFormat): Promise<LlamaGrammar> {
  const key = format.type === "json_object" ? "json" : JSON.stringify(format.schema);
  let byKey = grammars.get(llama);
  if (!byKey) {
    byKey = new Map();
    grammars.set(llama, byKey);
  }
  let grammar = byKey.get(key);
  if (!grammar) {
    const made =
      format.type === "json_object"
        ? llama.getGrammarFor("json")
        : // The schema is the caller's; node-llama-cpp checks what it supports and throws otherwise.
          llama.createGrammarForJsonSchema(
            format.schema as Parameters<Llama["createGrammarForJsonSchema"]>[0],
          );
    grammar = made.catch((error: unknown) => {
      byKey?.delete(key);
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidRequestError(
        `the JSON schema cannot be used to constrain llama.cpp's output: ${reason}`,
      );
    });
    byKey.set(key, grammar);
  }
  return grammar;
}

/** A fresh evaluation state of `grammar` for one generation. */
export function grammarState(model: LlamaModel, grammar: LlamaGrammar): LlamaGrammarEvaluationState {
  return new LlamaGrammarEvaluationState({ model, grammar });
}
