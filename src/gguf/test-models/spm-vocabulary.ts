// A SentencePiece-style (llama.cpp "llama" tokenizer) vocabulary with byte fallback, for generated test
// models: control tokens, the 256 byte tokens, printable ASCII, and merge pieces up to any size.

/** llama.cpp token types. */
export const TokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

/** A vocabulary as GGUF stores it. */
export interface SpmVocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
  ids: { unknown: number; bos: number; eos: number; imStart: number; imEnd: number };
}

/** Word pieces every vocabulary has, so tokenisation merges characters as real models do. */
const commonPieces = [
  "▁the",
  "▁a",
  "▁to",
  "▁of",
  "▁and",
  "▁is",
  "▁in",
  "▁you",
  "▁I",
  "▁it",
  "▁that",
  "▁for",
  "▁not",
  "▁A",
  "▁B",
  "▁(A)",
  "▁(B)",
  "(A)",
  "(B)",
  "▁answer",
  "▁The",
  "▁Human",
  "▁Assistant",
  "in",
  "er",
  "on",
  "re",
  "an",
  "ed",
  "ing",
  "es",
  "or",
  "at",
  "en",
];

/** The tokens every vocabulary starts with: control tokens, the 256 bytes, "▁" and printable ASCII. */
function baseVocabulary(add: (token: string, type: number) => void): void {
  add("<unk>", TokenType.unknown);
  add("<s>", TokenType.control);
  add("</s>", TokenType.control);
  add("<|im_start|>", TokenType.control);
  add("<|im_end|>", TokenType.control);
  for (let byte = 0; byte < 256; byte += 1) {
    add(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`, TokenType.byte);
  }
  add("▁", TokenType.normal);
  for (let code = 33; code < 127; code += 1) add(String.fromCharCode(code), TokenType.normal);
}

/** A vocabulary builder: `add` skips tokens already present and any beyond `size`. */
function vocabularyBuilder(size: number) {
  const tokens: string[] = [];
  const types: number[] = [];
  const index = new Map<string, number>();
  const add = (token: string, type: number) => {
    if (index.has(token) || tokens.length >= size) return;
    index.set(token, tokens.length);
    tokens.push(token);
    types.push(type);
  };
  /** Adds a piece and all its prefixes (SentencePiece builds pieces by merging adjacent ones). */
  const addPiece = (piece: string) => {
    const chars = [...piece];
    for (let n = 2; n <= chars.length; n += 1) add(chars.slice(0, n).join(""), TokenType.normal);
  };
  const finish = (): SpmVocabulary => {
    const count = tokens.length;
    // Longer pieces score higher, so they win merges; ties go to earlier (more common) pieces.
    const scores = tokens.map((token, i) =>
      types[i] === TokenType.normal ? [...token].length - i / (count + 1) : 0,
    );
    const id = (token: string) => index.get(token) ?? 0;
    return {
      tokens,
      scores,
      types,
      ids: {
        unknown: id("<unk>"),
        bos: id("<s>"),
        eos: id("<|im_end|>"),
        imStart: id("<|im_start|>"),
        imEnd: id("<|im_end|>"),
      },
    };
  };
  return { tokens, add, addPiece, finish };
}

/**
 * A vocabulary whose pieces are whole words: the base tokens, then every word of `words` as a piece on
 * its own and after a space ("▁word"), with their prefixes — so a closed language tokenises one token per
 * word, and anything else still falls back to characters and bytes.
 */
export function buildWordVocabulary(words: Iterable<string>): SpmVocabulary {
  const builder = vocabularyBuilder(Number.MAX_SAFE_INTEGER);
  baseVocabulary(builder.add);
  for (const word of words) {
    builder.addPiece(`▁${word}`);
    builder.addPiece(word);
  }
  return builder.finish();
}

/**
 * Builds a vocabulary of exactly `size` tokens (at least the ~400 base tokens). Every multi-character
 * piece has all its shorter prefixes in the vocabulary too, since SentencePiece builds pieces by
 * merging adjacent ones; higher scores merge first.
 */
export function buildSpmVocabulary(size: number): SpmVocabulary {
  const { tokens, add, addPiece, finish } = vocabularyBuilder(size);
  baseVocabulary(add);
  for (const piece of commonPieces) addPiece(piece);
  // Fill up to `size` with letter pieces of growing length, in a fixed order.
  const letters = "etaoinshrdlcumwfgypbvkjxqz";
  let frontier = [""];
  while (tokens.length < size) {
    const next: string[] = [];
    for (const stem of frontier) {
      for (const letter of letters) {
        next.push(stem + letter);
        addPiece(`${stem}${letter}`);
        addPiece(`▁${stem}${letter}`);
        if (tokens.length >= size) break;
      }
      if (tokens.length >= size) break;
    }
    frontier = next;
  }
  return finish();
}

/** The ChatML template (as used by SmolLM2 and Qwen2 instruct models), in Jinja, for `tokenizer.chat_template`. */
export const chatMlTemplate =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
