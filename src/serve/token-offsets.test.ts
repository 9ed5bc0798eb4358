import { describe, expect, it } from "vitest";
import { generatedTokenOffsets, promptTokenOffsets } from "./token-offsets.js";

// A byte-level tokenizer: each token is a byte string; decoding joins the bytes and decodes UTF-8
// leniently (U+FFFD for broken sequences), as llama.cpp's detokenizer does.
const decoder = new TextDecoder("utf-8");

function tokenizer(pieces: Uint8Array[]) {
  const detokenize = (tokens: number[]) =>
    decoder.decode(Buffer.concat(tokens.map((t) => pieces[t] ?? new Uint8Array())));
  return { tokens: pieces.map((_, i) => i), detokenize };
}

/** Splits text into tokens: ASCII runs of up to two characters, other characters one byte per token. */
function byteFallbackPieces(text: string): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let ascii = "";
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) {
      ascii += char;
      if (ascii.length === 2) {
        pieces.push(Buffer.from(ascii));
        ascii = "";
      }
      continue;
    }
    if (ascii) pieces.push(Buffer.from(ascii));
    ascii = "";
    for (const byte of Buffer.from(char)) pieces.push(Uint8Array.of(byte));
  }
  if (ascii) pieces.push(Buffer.from(ascii));
  return pieces;
}

describe("token offsets", () => {
  it("puts every byte piece of a split character at the character, and the next token after it", () => {
    const text = "Grüße, 你好!";
    const { tokens, detokenize } = tokenizer(byteFallbackPieces(text));
    const offsets = promptTokenOffsets(tokens, detokenize, text);
    // "Gr" | ü=2 bytes | ß=2 bytes | "e," | " " | 你=3 bytes | 好=3 bytes | "!"
    expect(offsets).toEqual([0, 2, 2, 3, 3, 4, 6, 7, 7, 7, 8, 8, 8, 9]);
    // The tokens at or after a prefix's end are exactly the continuation's.
    const prefix = "Grüße, ";
    expect(offsets.filter((o) => o >= prefix.length)).toHaveLength(7);
  });

  it("handles characters outside the BMP (two UTF-16 units) and a first token with no text", () => {
    const text = "a😀b";
    const pieces = [new Uint8Array(), ...byteFallbackPieces(text)];
    const { tokens, detokenize } = tokenizer(pieces);
    expect(promptTokenOffsets(tokens, detokenize, text)).toEqual([0, 0, 1, 1, 1, 1, 3]);
  });

  it("finds generated offsets from token texts alone, as the prefix method does", () => {
    // A lone continuation byte (invalid, decoded as U+FFFD in the text too), split characters, and a
    // character left unfinished at the end.
    const pieces = [
      Buffer.from("ab"),
      Uint8Array.of(0x80),
      ...byteFallbackPieces("你好 x"),
      Uint8Array.of(0xe4),
      Uint8Array.of(0xbd),
    ];
    const { tokens, detokenize } = tokenizer(pieces);
    const generated = detokenize(tokens);
    const prompt = "P: ";
    const text = prompt + generated;
    const texts = tokens.map((t) => detokenize([t]));
    const expected = promptTokenOffsets(tokens, detokenize, generated).map((o) => o + prompt.length);
    expect(generatedTokenOffsets(texts, text, prompt.length)).toEqual(expected);
  });

  it("gives generated tokens past a stop string the end of the text", () => {
    const text = "abc";
    expect(generatedTokenOffsets(["ab", "c\n", "\nmore"], text, 0)).toEqual([0, 2, 3]);
  });
});
