// Turns cai prompts into llama.cpp tokens exactly as generation sees them: chat messages through the
// model's own chat template (node-llama-cpp's chat wrapper), raw text after the BOS token.
import {
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaModel,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";
import { InvalidRequestError } from "../errors/invalid-request-error.js";
import type { ChatMessage, ScoringPrompt } from "../model.js";

/** Renders prompts for one model. */
export class LlamaPromptRenderer {
  private readonly chatWrapper: ChatWrapper;

  constructor(private readonly model: LlamaModel) {
    const wrapper = resolveChatWrapper(model);
    if (!wrapper) throw new InvalidRequestError(`model ${model.filename ?? ""} has no usable chat template`);
    this.chatWrapper = wrapper;
  }

  /** Name of the chat template in use (e.g. `ChatML`). */
  get templateName(): string {
    return this.chatWrapper.wrapperName;
  }

  /**
   * Tokens of a conversation with the assistant's turn opened and begun with `assistantText`. A final
   * assistant message is continued (prefill): it opens the turn, followed by `assistantText`.
   */
  chatTokens(messages: readonly ChatMessage[], assistantText = ""): Token[] {
    const last = messages[messages.length - 1];
    if (last?.role === "assistant")
      return this.chatTokens(messages.slice(0, -1), last.content + assistantText);
    const chatHistory: ChatHistoryItem[] = [];
    for (const message of messages) {
      if (message.role === "system") chatHistory.push({ type: "system", text: message.content });
      else if (message.role === "user") chatHistory.push({ type: "user", text: message.content });
      else chatHistory.push({ type: "model", response: [message.content] });
    }
    chatHistory.push({ type: "model", response: assistantText ? [assistantText] : [] });
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory });
    return contextText.tokenize(this.model.tokenizer);
  }

  /**
   * The tokens the model writes to end its turn (e.g. ChatML's `<|im_end|>`, Llama 3's `<|eot_id|>`): what
   * the chat template puts right after an assistant message when the conversation goes on, if that is an
   * end-of-generation token (generation stops on it); else the model's EOT or EOS token; else none.
   * Training appends them to a learned answer so the model learns to stop.
   */
  endOfTurnTokens(): Token[] {
    const answer = "ok";
    const open = this.chatTokens([{ role: "user", content: "hi" }], answer);
    const { contextText } = this.chatWrapper.generateContextState({
      chatHistory: [
        { type: "user", text: "hi" },
        { type: "model", response: [answer] },
        { type: "user", text: "again" },
        { type: "model", response: [] },
      ],
    });
    const closed = contextText.tokenize(this.model.tokenizer);
    const next = closed[open.length];
    if (open.every((token, i) => closed[i] === token) && next !== undefined && this.model.isEogToken(next))
      return [next];
    const fallback = this.model.tokens.eot ?? this.model.tokens.eos;
    return fallback === null ? [] : [fallback];
  }

  /** Tokens of raw text, after BOS when the model wants one. */
  textTokens(text: string): Token[] {
    const tokens = this.model.tokenize(text, false);
    const bos = this.model.tokens.bos;
    return this.model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
  }

  /** Tokens of a scoring prompt followed by `continuation` (empty: the prompt alone). */
  promptTokens(prompt: ScoringPrompt, continuation = ""): Token[] {
    if (typeof prompt === "string") return this.textTokens(prompt + continuation);
    return this.chatTokens(prompt.messages, (prompt.assistantPrefix ?? "") + continuation);
  }

  /**
   * The prompt's tokens and, for each continuation, its own tokens after them. As in
   * lm-evaluation-harness, prompt and continuation are tokenised together and split where the
   * prompt's tokens end, so a continuation is scored the way the model would have written it; where
   * the joint tokenisation merges across the boundary, the continuation is tokenised on its own.
   */
  split(
    prompt: ScoringPrompt,
    continuations: readonly string[],
  ): { prefix: Token[]; continuations: Token[][] } {
    const prefix = this.promptTokens(prompt);
    return {
      prefix,
      continuations: continuations.map((text) => {
        const whole = this.promptTokens(prompt, text);
        const aligned = prefix.every((token, i) => whole[i] === token);
        const tokens = aligned ? whole.slice(prefix.length) : this.model.tokenize(text, false);
        if (tokens.length === 0)
          throw new InvalidRequestError(`continuation ${JSON.stringify(text)} has no tokens`);
        return tokens;
      }),
    };
  }
}
