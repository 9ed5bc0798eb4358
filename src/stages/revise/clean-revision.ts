// Small models wrap their revisions in labels and chatter ("Revision:", "Sure, here is a revised
// response:") and sometimes echo the request; this strips that so only the rewritten answer remains,
// and recognises critiques that find nothing to change.

/** Labels a model may echo before the revised text. */
const labels =
  /^\s*(?:\*\*)?(?:revised response|revised answer|revision|rewrite|rewritten response|new response|response|answer)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*/i;

/** One-sentence preambles that announce the revision instead of being part of it. */
const preambles = [
  /^\s*(?:sure|certainly|of course|okay|ok|absolutely)[,!.]?\s*(?:here(?:'s| is| are)\b[^\n:]*[:.]|i(?:'ll| will| can)\b[^\n:]*[:.])?\s*/i,
  /^\s*here(?:'s| is)\s+(?:a|an|the|my)?\s*(?:revised|rewritten|updated|improved|new|safer|more helpful)\b[^\n:]*[:.]\s*/i,
  /^\s*(?:below is|the following is)\s+(?:a|an|the|my)?\s*(?:revised|rewritten|updated|improved)\b[^\n:]*[:.]\s*/i,
];

/** Trailing remarks about the revision itself. */
const postscripts = [
  /\n+\s*(?:i hope this (?:revision|revised response|version)|this revis(?:ion|ed response) (?:removes|avoids|addresses|is)|(?:the )?changes? (?:made|i made))[^\n]*$/i,
];

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
  let changed = true;
  while (changed && text) {
    changed = false;
    for (const pattern of [labels, ...preambles]) {
      const match = pattern.exec(text);
      if (match?.[0].trim() && match[0].length < text.length) {
        stripped.push(match[0].trim());
        text = text.slice(match[0].length).trim();
        changed = true;
      }
    }
  }
  for (const pattern of postscripts) {
    const match = pattern.exec(text);
    if (match && match.index > 0) {
      stripped.push(match[0].trim());
      text = text.slice(0, match.index).trim();
    }
  }
  const quoted = /^(["“])([\s\S]*)(["”])$/.exec(text);
  if (quoted?.[2] && !quoted[2].includes(quoted[1] === "“" ? "”" : '"')) {
    stripped.push("quotes");
    text = quoted[2].trim();
  }
  return { text, stripped };
}

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
