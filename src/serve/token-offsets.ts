// Where each token's text starts in a completion's text (`text_offset` of `/v1/completions`), robust to
// byte-fallback tokens that split a multi-byte UTF-8 character (each of them decodes to U+FFFD alone).

/** Length of the common prefix of `a` and `b`, given that it is known to be at least `atLeast`. */
function commonPrefixLength(a: string, b: string, atLeast = 0): number {
  const limit = Math.min(a.length, b.length);
  let n = Math.min(atLeast, limit);
  while (n < limit && a.charCodeAt(n) === b.charCodeAt(n)) n += 1;
  return n;
}

/**
 * Offsets of `tokens` in `text`, the text they decode to: token i starts where the decoded text of the
 * tokens before it stops agreeing with `text` (the longest common prefix). Exact by construction: the
 * pieces of a split character all start at the character, and the next token right after it.
 */
export function promptTokenOffsets<T extends number>(
  tokens: readonly T[],
  detokenize: (tokens: T[]) => string,
  text: string,
): number[] {
  const offsets: number[] = [];
  let previous = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const decoded = i === 0 ? "" : detokenize(tokens.slice(0, i));
    // Decoded prefixes almost always extend each other: check the old common prefix in one native
    // comparison, then extend it; fall back to a full scan when they do not.
    const start = decoded.startsWith(text.slice(0, previous)) ? previous : 0;
    previous = commonPrefixLength(decoded, text, start);
    offsets.push(previous);
  }
  return offsets;
}

/** UTF-8 length of the character (code point) at `index` of `text`. */
function utf8Length(text: string, index: number): { bytes: number; units: number } {
  const code = text.codePointAt(index) ?? 0;
  if (code < 0x80) return { bytes: 1, units: 1 };
  if (code < 0x800) return { bytes: 2, units: 1 };
  if (code < 0x10000) return { bytes: 3, units: 1 };
  return { bytes: 4, units: 2 };
}

/**
 * Offsets of generated tokens known only by their texts (`pieces`, each decoded alone), in `text`
 * from `start` on. A piece that matches the text there moves past it; a piece with U+FFFD that does
 * not is taken as one byte per U+FFFD of a character still being completed, and the offset moves past
 * the character once its bytes are in. This gives the same offsets as {@link promptTokenOffsets} for
 * whole-character tokens and byte-fallback pieces; it is a heuristic only for byte-level BPE pieces that
 * hold several bytes of a split character. Pieces past the end of `text` (cut at a stop string) get
 * its length.
 */
export function generatedTokenOffsets(pieces: readonly string[], text: string, start: number): number[] {
  const offsets: number[] = [];
  let position = Math.min(start, text.length);
  let pendingBytes = 0;
  for (const piece of pieces) {
    while (pendingBytes > 0 && position < text.length) {
      const char = utf8Length(text, position);
      if (pendingBytes < char.bytes) break;
      pendingBytes -= char.bytes;
      position += char.units;
    }
    offsets.push(position);
    if (piece.length > 0 && text.startsWith(piece, position)) {
      position += piece.length;
      pendingBytes = 0;
    } else if (piece.includes("\uFFFD")) {
      pendingBytes += piece.split("\uFFFD").length - 1;
    } else if (piece.startsWith(text.slice(position))) {
      // The text ends inside this piece: it was cut at a stop string.
      position = text.length;
    }
  }
  return offsets;
}
