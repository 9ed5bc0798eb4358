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
   * prompt's tokens end, so a continuation is scored the way the model would have written it.
   *
   * Where the joint tokenisation merges across the boundary (e.g. a prompt ending in "(" and a choice
   * "A", with "(A" one token): for a single continuation, it is tokenised on its own; with `shareMerged`
   * (choices compared with each other), the context is cut back to the last token all the joint
   * tokenisations share with the prompt, and each continuation is scored from there — what the model
   * would write after the shared text, the merged piece of the prompt included alike for every choice.
   */
  split(
    prompt: ScoringPrompt,
    continuations: readonly string[],
    options: { shareMerged?: boolean } = {},
  ): { prefix: Token[]; continuations: Token[][] } {
    const prefix = this.promptTokens(prompt);
    const wholes = continuations.map((text) => this.promptTokens(prompt, text));
    const aligned = wholes.map((whole) => prefix.every((token, i) => whole[i] === token));
    if (options.shareMerged && aligned.includes(false)) {
      let shared = 0;
      while (shared < prefix.length && wholes.every((whole) => whole[shared] === prefix[shared])) shared += 1;
      if (shared > 0 && wholes.every((whole) => whole.length > shared))
        return { prefix: prefix.slice(0, shared), continuations: wholes.map((whole) => whole.slice(shared)) };
    }
    return {
      prefix,
      continuations: continuations.map((text, i) => {
        const tokens = aligned[i]
          ? (wholes[i] as Token[]).slice(prefix.length)
          : this.model.tokenize(text, false);
        if (tokens.length === 0)
          throw new InvalidRequestError(`continuation ${JSON.stringify(text)} has no tokens`);
        return tokens;
      }),
    };
  }
}
