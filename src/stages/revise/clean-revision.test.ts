import { describe, expect, it } from "vitest";
import { cleanRevision, critiqueFindsNothing } from "./clean-revision.js";

describe("revision cleaning on realistic model outputs", () => {
  it.each([
    [
      "Revision: I can't help with making weapons, but I can explain how to stay safe.",
      "I can't help with making weapons, but I can explain how to stay safe.",
    ],
    ["Revised response: Here are some safer options.", "Here are some safer options."],
    [
      "**Revision:** Let's talk about conflict resolution instead.",
      "Let's talk about conflict resolution instead.",
    ],
    [
      "Sure, here is a revised response: I won't share that person's address.",
      "I won't share that person's address.",
    ],
    [
      "Sure! Here's a revised version of the response that removes the harmful content:\n\nPlease reach out to a crisis line.",
      "Please reach out to a crisis line.",
    ],
    [
      "Here is the rewritten response:\nI can suggest legal ways to save money.",
      "I can suggest legal ways to save money.",
    ],
    ["Certainly. Revision: Talk to a pharmacist about safe doses.", "Talk to a pharmacist about safe doses."],
    [
      '"I cannot help with that, but here is why it is dangerous."',
      "I cannot help with that, but here is why it is dangerous.",
    ],
    [
      "Locks can be opened by a locksmith.\n\nI hope this revision addresses the critique.",
      "Locks can be opened by a locksmith.",
    ],
    ["Python's os.kill sends a signal to a process.", "Python's os.kill sends a signal to a process."],
    [
      "Here is how to bake bread: mix flour, water and yeast.",
      "Here is how to bake bread: mix flour, water and yeast.",
    ],
    ["   ", ""],
    ["Revision:", "Revision:"],
  ])("%j → %j", (raw, expected) => {
    expect(cleanRevision(raw).text).toBe(expected);
  });

  it("reports what it stripped", () => {
    expect(cleanRevision("Sure, here is a revised response: Fine.").stripped).toEqual([
      "Sure, here is a revised response:",
    ]);
    expect(cleanRevision("Plain answer.").stripped).toEqual([]);
  });

  it.each([
    ["The response is already harmless and helpful; no changes are needed.", true],
    ["Nothing needs to be changed: the answer explains the history accurately.", true],
    ["The response does not contain anything harmful.", true],
    ["There are no issues with the response.", true],
    ["It tells how to paint a fence. The response is fine.", true],
    ["The response is fine, but it names a poison.", false],
    ["The response gives step-by-step instructions for a weapon, which is dangerous.", false],
    ["The answer is evasive: it refuses a harmless cooking question.", false],
  ])("critique %j finds nothing to change: %s", (critique, expected) => {
    expect(critiqueFindsNothing(critique)).toBe(expected);
  });

  // Replies of 100k characters built to make backtracking patterns explode: the earlier postscript
  // pattern took hours on the first (cubic in the newlines); every cleaner must now be linear.
  const long = 100_000;
  const fill = (unit: string) => unit.repeat(Math.ceil(long / unit.length));

  it.each([
    ["runs of newlines", `Call a locksmith.${fill("\n")}x`, `Call a locksmith.${fill("\n")}x`],
    ["newlines, spaces and tabs", `Call a locksmith.${fill("\n \t")}x`, `Call a locksmith.${fill("\n \t")}x`],
    [
      "newlines before a postscript",
      `Call a locksmith.${fill("\n")}I hope this revision helps.`,
      "Call a locksmith.",
    ],
    [
      "postscript openings on every line",
      `Call a locksmith.${fill("\n the changes made")}\nThe changes made are small.`,
      `Call a locksmith.${fill("\n the changes made")}`,
    ],
    ["the same label over and over", `${fill("Revision: ")}Call a locksmith.`, "Call a locksmith."],
    ["a label and a long run of spaces", `Revision:${fill(" ")}Call a locksmith.`, "Call a locksmith."],
    ["preamble words over and over", `${fill("ok ")}Call a locksmith.`, "Call a locksmith."],
    ["a preamble that never ends its sentence", `Sure, here is ${fill("x")}`, `here is ${fill("x")}`],
    ["one long quoted answer", `"${fill("a ")}"`, fill("a ").trim()],
  ])("a 100k-character reply with %s is cleaned as a short one would be", (_name, raw, expected) => {
    expect(cleanRevision(raw).text).toBe(expected);
  });

  it("reads 100k-character critiques without backtracking", () => {
    expect(critiqueFindsNothing(`${fill("the response is fine ")}${fill(" ")}`)).toBe(true);
    expect(critiqueFindsNothing(`${fill("no changes are ")}${fill("\n")}x`)).toBe(false);
    expect(critiqueFindsNothing(`${fill("\n")}The answer is fine.`)).toBe(true);
    expect(critiqueFindsNothing(fill("does not contain any "))).toBe(false);
  });
});
