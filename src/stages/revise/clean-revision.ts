// Small models wrap their revisions in labels and chatter ("Revision:", "Sure, here is a revised
// response:") and sometimes echo the request; this strips that so only the rewritten answer remains,
// and recognises critiques that find nothing to change. Model replies can be anything (100k characters
// of newlines, the same label ten thousand times), so every pattern here runs in linear time: each is
// anchored or made of fixed words, none puts two unbounded quantifiers that can match the same
// characters side by side, and the prefix patterns only ever see a bounded head of the text.

/** Labels a model may echo before the revised text. */
const labels =
  /^\s*(?:\*\*)?(?:revised response|revised answer|revision|rewrite|rewritten response|new response|response|answer)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*/i;

/** One-sentence preambles that announce the revision instead of being part of it. */
const preambles = [
  /^\s*(?:sure|certainly|of course|okay|ok|absolutely)[,!.]?\s*(?:here(?:'s| is| are)\b[^\n:]*[:.]|i(?:'ll| will| can)\b[^\n:]*[:.])?\s*/i,
  /^\s*here(?:'s| is)\s+(?:a|an|the|my)?\s*(?:revised|rewritten|updated|improved|new|safer|more helpful)\b[^\n:]*[:.]\s*/i,
  /^\s*(?:below is|the following is)\s+(?:a|an|the|my)?\s*(?:revised|rewritten|updated|improved)\b[^\n:]*[:.]\s*/i,
];

/**
 * Any of them, the first that matches: one pass per strip instead of four. They start with different
 * words, so at most one matches a given start and the order of trying them changes nothing.
 */
const labelOrPreamble = new RegExp([labels, ...preambles].map((pattern) => pattern.source).join("|"), "i");

/**
 * How much of the text's start the label and preamble patterns see: they are short, and a bounded head
 * keeps each pass of the stripping loop constant-time however long the reply is.
 */
const headLength = 1000;

/**
 * A trailing remark about the revision itself, at the start of the last line. Only ever matched against
 * that one line: the earlier form, `\n+\s*(?:…)[^\n]*$` over the whole text, backtracked cubically on
 * runs of newlines (23 s for 4,000 of them).
 */
const postscript =
  /^\s*(?:i hope this (?:revision|revised response|version)|this revis(?:ion|ed response) (?:removes|avoids|addresses|is)|(?:the )?changes? (?:made|i made))/i;

/** What cleaning did to a revision. */
export interface CleanedRevision {
  text: string;
  /** Labels, preambles or postscripts removed. */
  stripped: string[];
}

/** The revision without echoed labels, meta-preambles, wrapping quotes and remarks about itself. */
export function cleanRevision(raw: string): CleanedRevision {
  let text = raw.trim();
  const stripped: string[] = [];
  for (;;) {
    const match = labelOrPreamble.exec(text.slice(0, headLength));
    if (!(match?.[0].trim() && match[0].length < text.length)) break;
    stripped.push(match[0].trim());
    text = text.slice(match[0].length).trim();
  }
  const remark = postscriptStart(text);
  if (remark > 0) {
    stripped.push(text.slice(remark).trim());
    text = text.slice(0, remark).trim();
  }
  // Linear: one greedy run and a check at the end, tried from the start only.
  const quoted = /^(["“])([\s\S]*)(["”])$/.exec(text);
  if (quoted?.[2] && !quoted[2].includes(quoted[1] === "“" ? "”" : '"')) {
    stripped.push("quotes");
    text = quoted[2].trim();
  }
  return { text, stripped };
}

/**
 * Where a postscript begins — the first newline of the whitespace before a last line that opens with a
 * remark about the revision — or -1. A scan back from the last newline: linear in the text's length.
 */
function postscriptStart(text: string): number {
  const lastNewline = text.lastIndexOf("\n");
  if (lastNewline < 0 || !postscript.test(text.slice(lastNewline + 1))) return -1;
  let start = lastNewline;
  while (start > 0 && /\s/.test(text.charAt(start - 1))) start -= 1;
  return text.indexOf("\n", start);
}

/** Critique phrases that find nothing to change: fixed words, each tried at a word boundary (linear). */
const nothingToChange = [
  /\bno (?:changes?|revisions?|edits?|modifications?) (?:are |is )?(?:needed|necessary|required)\b/i,
  /\bnothing (?:needs to be|to) (?:change|changed|revise|revised|fix|fixed|improve)\b/i,
  /\b(?:does not|doesn't|did not|didn't) (?:contain|include) (?:anything|any(?:thing)?)? ?(?:harmful|unethical|dangerous|illegal|problematic)\b/i,
  /\b(?:is|was) (?:already )?(?:harmless|appropriate|safe and helpful|fine as (?:it is|is))\b/i,
  /\bno (?:issues|problems|concerns) (?:with|in) (?:the|this) (?:response|answer)\b/i,
  // A verdict at the very end ("… The response is fine."), not "the response is fine, but …".
  /\b(?:response|answer) (?:is|was) (?:fine|acceptable|ok|okay)[.!]?\s*$/i,
];

/** True when a critique says the response needs no change, so the revision can be skipped. */
export function critiqueFindsNothing(critique: string): boolean {
  return nothingToChange.some((pattern) => pattern.test(critique));
}
