// How the `openai:` backend scores choices after a chat prompt, as cheaply as the server allows while
// matching the in-process `llama:` backend: with the server's tokenizer (vLLM's `/tokenize`, which `cai
// serve` also answers) it splits prompt and choices exactly as llama: does and reads each choice's tokens'
// log-probabilities from `prompt_logprobs` over the last positions only (cai's `prompt_logprobs_from`),
// the other choices' first tokens from the same request's alternatives; without a tokenizer, one greedy
// token's `top_logprobs` (AlpacaEval's read), exact for choices listed as one token each.
import type OpenAI from "openai";
import { ModelCallError } from "../errors/model-call-error.js";
import type { ChatMessage, ChoiceScores, ScoreChoicesOptions } from "../model.js";
import { normaliseLogprobs } from "../scoring.js";
import { choicesFromTop, exactFromTop, type TopToken } from "./next-token-choices.js";

/** A chat scoring prompt. */
type ChatPrompt = Exclude<ScoreChoicesOptions["prompt"], string>;

/** Runs one request with a call's signal and time limit, turning SDK errors into cai's. */
export type CallRunner = <T>(
  options: ScoreChoicesOptions,
  request: (requestOptions: OpenAI.RequestOptions) => Promise<T>,
) => Promise<T>;

/** What the scorer has learnt about the server; starts unknown, shared by every call of one model. */
interface ServerFeatures {
  /** The server answered `/tokenize` for chat messages (vLLM, cai serve), or did not. */
  tokenize?: boolean;
  /** The server returns `prompt_logprobs` on chat completions (vLLM, cai serve), or does not. */
  promptLogprobs?: boolean;
  /**
   * The server scores only the positions `prompt_logprobs_from` asks for (cai serve, which also takes
   * `max_tokens: 0` with `prompt_logprobs`), or all (vLLM).
   */
  promptWindow?: boolean;
}

/** Prompt and choices split as the llama: backend splits them: the tokens every choice's scoring starts after. */
interface ChoiceSplit {
  /** The prompt's length in tokens. */
  promptLength: number;
  /** Index of the first scored token: the prompt's length, or less where a choice merges with its end. */
  start: number;
  /** The prompt continued by each choice, as token ids. */
  wholes: number[][];
}

/** Scores choices after chat prompts for one model of one server. */
export class ChatChoiceScorer {
  constructor(
    private readonly client: OpenAI,
    private readonly modelId: string,
    private readonly topLogprobs: number,
    private readonly call: CallRunner,
  ) {}

  private readonly features: ServerFeatures = {};

  async score(options: ScoreChoicesOptions & { prompt: ChatPrompt }): Promise<ChoiceScores> {
    const { prompt, choices } = options;
    const split = this.features.tokenize === false ? undefined : await this.split(prompt, choices, options);
    // Whether each choice is one token right after the prompt's own tokens (unknown without a tokenizer:
    // then a choice listed as one token is taken to be the token the model writes after the prompt, true
    // unless the server's tokenizer merges it with the prompt's last characters).
    const oneTokenEach =
      !split ||
      (split.start === split.promptLength && split.wholes.every((whole) => whole.length === split.start + 1));
    let next: NextToken | undefined;
    if (split && this.features.promptLogprobs !== false) {
      // A server that scores every prompt position anyway (vLLM) answers one greedy token cheaper.
      if (this.features.promptWindow === false && oneTokenEach) {
        next = await this.nextToken(prompt, options);
        const listed = exactFromTop(next.top, choices);
        if (listed) return { probabilities: normaliseLogprobs(listed), logprobs: listed, method: "exact" };
      }
      const exact = await this.scoreSplit(prompt, choices, split, options);
      if (exact) return exact;
    }
    next ??= await this.nextToken(prompt, options);
    const listed = oneTokenEach ? exactFromTop(next.top, choices) : undefined;
    if (listed) return { probabilities: normaliseLogprobs(listed), logprobs: listed, method: "exact" };
    if (!split && this.features.promptLogprobs !== false && next.promptTokens !== undefined) {
      const exact = await this.scoreWithoutTokenizer(prompt, choices, next.promptTokens, options);
      if (exact) return exact;
    }
    return choicesFromTop(next.top, choices);
  }

  /** Scores estimated from the next token's alternatives alone (`top-logprobs`), for prompts not scored exactly. */
  async fromNextToken(options: ScoreChoicesOptions & { prompt: ChatPrompt }): Promise<ChoiceScores> {
    return choicesFromTop((await this.nextToken(options.prompt, options)).top, options.choices);
  }

  /**
   * Splits as `LlamaPromptRenderer.split` with `shareMerged`: after the prompt's tokens when every
   * choice keeps them; else after the last token every rendering shares. Undefined without a tokenizer
   * (remembered) or when no token is shared.
   */
  private async split(
    prompt: ChatPrompt,
    choices: readonly string[],
    options: ScoreChoicesOptions,
  ): Promise<ChoiceSplit | undefined> {
    const [prefix, ...wholes] = await Promise.all(
      [undefined, ...choices].map((choice) => this.tokenize(prompt, choice, options)),
    );
    if (prefix === undefined || wholes.some((w) => w === undefined)) return undefined;
    const lists = wholes as number[][];
    const promptLength = prefix.length;
    if (lists.every((whole) => prefix.every((token, i) => whole[i] === token) && whole.length > promptLength))
      return { promptLength, start: promptLength, wholes: lists };
    let shared = 0;
    while (shared < promptLength && lists.every((whole) => whole[shared] === prefix[shared])) shared += 1;
    if (shared === 0 || lists.some((whole) => whole.length <= shared)) return undefined;
    return { promptLength, start: shared, wholes: lists };
  }

  /** Token ids of the prompt continued by `choice` (vLLM's `/tokenize`), or undefined where there is none. */
  private async tokenize(
    prompt: ChatPrompt,
    choice: string | undefined,
    options: ScoreChoicesOptions,
  ): Promise<number[] | undefined> {
    const messages = withAssistantText(prompt, choice);
    const continued = messages[messages.length - 1]?.role === "assistant";
    try {
      const answer = await this.call(options, (requestOptions) =>
        this.client.post<{ tokens?: unknown }>(tokenizeURL(this.client.baseURL), {
          body: {
            model: this.modelId,
            messages,
            ...(continued ? { continue_final_message: true, add_generation_prompt: false } : {}),
          },
          ...requestOptions,
        }),
      );
      const tokens = answer.tokens;
      if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t))) {
        this.features.tokenize = false;
        return undefined;
      }
      this.features.tokenize = true;
      return tokens as number[];
    } catch (error) {
      if (isRefusal(error)) {
        this.features.tokenize = false;
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Exact scores from `prompt_logprobs` at the split's positions: the choices one request at a time (so
   * the server can reuse the prompt it just evaluated), the first with its alternatives, which give the
   * other choices' first token where they are listed (all of a one-token choice). Undefined when the
   * server gives no prompt log-probabilities (remembered) or tokenised differently than `/tokenize` said.
   */
  private async scoreSplit(
    prompt: ChatPrompt,
    choices: readonly string[],
    split: ChoiceSplit,
    options: ScoreChoicesOptions,
  ): Promise<ChoiceScores | undefined> {
    const logprobs: Array<number | undefined> = choices.map(() => undefined);
    const alternatives = this.features.promptWindow === false ? 0 : this.topLogprobs;
    for (const [index, choice] of choices.entries()) {
      if (logprobs[index] !== undefined) continue;
      const whole = split.wholes[index] as number[];
      const entries = await this.promptLogprobs(
        prompt,
        choice,
        index === 0 ? alternatives : 0,
        split.start,
        options,
      );
      if (!entries) return undefined;
      if (entries.length !== whole.length) return undefined;
      if (split.start > 1)
        this.features.promptWindow = entries.slice(1, split.start).every((entry) => entry === null);
      let sum = 0;
      for (let i = split.start; i < whole.length; i += 1) {
        const logprob = entries[i]?.[String(whole[i])]?.logprob;
        if (typeof logprob !== "number") return undefined;
        sum += logprob;
      }
      logprobs[index] = sum;
      // The distribution after the shared tokens holds every other choice's first token.
      const first = entries[split.start];
      split.wholes.forEach((other, j) => {
        const listed = first?.[String(other[split.start])]?.logprob;
        if (logprobs[j] === undefined && other.length === split.start + 1 && typeof listed === "number")
          logprobs[j] = listed;
      });
    }
    const exact = logprobs as number[];
    return { probabilities: normaliseLogprobs(exact), logprobs: exact, method: "exact" };
  }

  /**
   * Without a tokenizer: each choice's prompt log-probabilities, split where the renderings stop
   * agreeing (after the prompt's `promptTokens` tokens when every rendering keeps them).
   */
  private async scoreWithoutTokenizer(
    prompt: ChatPrompt,
    choices: readonly string[],
    promptTokens: number,
    options: ScoreChoicesOptions,
  ): Promise<ChoiceScores | undefined> {
    const lists: PromptLogprobEntry[][] = [];
    for (const choice of choices) {
      const entries = await this.promptLogprobs(prompt, choice, 0, 0, options);
      if (
        !entries ||
        entries.some((entry, i) => i > 0 && (entry === null || Object.keys(entry).length !== 1))
      )
        return undefined;
      lists.push(entries.map((entry) => entry ?? {}));
    }
    const idAt = (list: PromptLogprobEntry[], i: number) => Object.keys(list[i] ?? {})[0] ?? "";
    const [first = []] = lists;
    const sharedWith = (length: number) =>
      lists.every((list) =>
        Array.from({ length }, (_, i) => i).every((i) => idAt(list, i) === idAt(first, i)),
      );
    let start = promptTokens;
    if (!(first.length >= promptTokens && sharedWith(promptTokens))) {
      start = 0;
      while (start < promptTokens && sharedWith(start + 1)) start += 1;
      if (start === 0) return undefined;
    }
    if (lists.some((list) => list.length <= start)) return undefined;
    const logprobs = lists.map((list) =>
      list.slice(start).reduce((sum, entry) => {
        const logprob = Object.values(entry)[0]?.logprob;
        return sum + (typeof logprob === "number" ? logprob : Number.NaN);
      }, 0),
    );
    if (logprobs.some((l) => Number.isNaN(l))) return undefined;
    return { probabilities: normaliseLogprobs(logprobs), logprobs, method: "exact" };
  }

  /** vLLM's `prompt_logprobs` of the prompt continued by `choice`, from position `from` on. */
  private async promptLogprobs(
    prompt: ChatPrompt,
    choice: string,
    top: number,
    from: number,
    options: ScoreChoicesOptions,
  ): Promise<Array<PromptLogprobEntry | null> | undefined> {
    const body = {
      model: this.modelId,
      messages: withAssistantText(prompt, choice),
      // A server that honours the window (cai serve) also scores without generating; others want a token.
      max_tokens: this.features.promptWindow === true ? 0 : 1,
      temperature: 0,
      continue_final_message: true,
      add_generation_prompt: false,
      prompt_logprobs: top,
      ...(from > 0 ? { prompt_logprobs_from: from } : {}),
    };
    try {
      const completion = await this.call(options, (requestOptions) =>
        this.client.chat.completions.create(body, requestOptions),
      );
      const list = (completion as { prompt_logprobs?: unknown }).prompt_logprobs;
      if (!Array.isArray(list) || list.length === 0) {
        this.features.promptLogprobs = false;
        return undefined;
      }
      this.features.promptLogprobs = true;
      return list as Array<PromptLogprobEntry | null>;
    } catch (error) {
      if (isRefusal(error)) {
        this.features.promptLogprobs = false;
        return undefined;
      }
      throw error;
    }
  }

  /** One greedy token after the prompt, with its `top_logprobs` and the prompt's length in tokens. */
  private async nextToken(prompt: ChatPrompt, options: ScoreChoicesOptions): Promise<NextToken> {
    const messages = withAssistantText(prompt, undefined);
    const continued = messages[messages.length - 1]?.role === "assistant";
    const completion = await this.call(options, (requestOptions) =>
      this.client.chat.completions.create(
        {
          model: this.modelId,
          messages,
          max_tokens: 1,
          temperature: 0,
          logprobs: true,
          top_logprobs: this.topLogprobs,
          // vLLM's (and cai serve's) way to continue a prefilled assistant message.
          ...(continued ? { continue_final_message: true, add_generation_prompt: false } : {}),
        },
        requestOptions,
      ),
    );
    return {
      top: completion.choices[0]?.logprobs?.content?.[0]?.top_logprobs ?? [],
      ...(completion.usage ? { promptTokens: completion.usage.prompt_tokens } : {}),
    };
  }
}

/** One position of vLLM's `prompt_logprobs`: token id → its log-probability. */
type PromptLogprobEntry = Record<string, { logprob?: unknown }>;

/** The next token's alternatives after a prompt, and the prompt's length where the server said. */
interface NextToken {
  top: TopToken[];
  promptTokens?: number;
}

/** The prompt's messages with the assistant's turn begun by its prefix and `choice` (when either is set). */
function withAssistantText(prompt: ChatPrompt, choice: string | undefined): ChatMessage[] {
  const text = (prompt.assistantPrefix ?? "") + (choice ?? "");
  return text ? [...prompt.messages, { role: "assistant", content: text }] : [...prompt.messages];
}

/** vLLM's `/tokenize`, beside `/v1` at the server's root (`http://host:8000/v1` → `http://host:8000/tokenize`). */
function tokenizeURL(baseURL: string): string {
  return `${baseURL.replace(/\/+$/, "").replace(/\/v1$/, "")}/tokenize`;
}

/** A server answering that it has no such endpoint or parameter (any 4xx but 401, 403, 429). */
function isRefusal(error: unknown): boolean {
  if (!ModelCallError.isInstance(error) || error.status === undefined) return false;
  return error.status >= 400 && error.status < 500 && ![401, 403, 429].includes(error.status);
}
