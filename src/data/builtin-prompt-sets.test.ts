import { describe, expect, it } from "vitest";
import { builtinPromptSetPath, loadBuiltinPromptSet } from "./builtin-prompt-sets.js";
import type { PromptRecord } from "./prompt-set.js";
import { countByCategory } from "./prompt-set-stats.js";

const redTeam = await loadBuiltinPromptSet("red-team");
const helpful = await loadBuiltinPromptSet("helpful");

function testShare(records: readonly PromptRecord[]): number {
  return records.filter((r) => r.split === "test").length / records.length;
}

describe("the built-in prompt sets", () => {
  it("resolve from the package root", () => {
    expect(builtinPromptSetPath("red-team")).toMatch(/[/\\]data[/\\]prompts[/\\]red-team\.jsonl$/);
  });

  it("hold at least 200 red-team prompts in at least 10 harm categories, in every style", () => {
    expect(redTeam.length).toBeGreaterThanOrEqual(200);
    expect(countByCategory(redTeam).length).toBeGreaterThanOrEqual(10);
    expect(redTeam.every((r) => r.kind === "red-team" && r.style !== undefined && r.source === "cai")).toBe(
      true,
    );
    const styles = new Map<string, number>();
    for (const { style } of redTeam) styles.set(String(style), (styles.get(String(style)) ?? 0) + 1);
    for (const style of ["direct", "indirect", "role-play", "jailbreak", "multi-turn"])
      expect(styles.get(style) ?? 0).toBeGreaterThanOrEqual(15);
  });

  it("write multi-turn prompts as conversations that end with a user turn", () => {
    const multiTurn = redTeam.filter((r) => r.style === "multi-turn");
    expect(multiTurn.every((r) => Array.isArray(r.prompt) && r.prompt.length >= 3)).toBe(true);
    expect(helpful.some((r) => Array.isArray(r.prompt))).toBe(true);
  });

  it("hold at least 200 helpful prompts, 40 of them benign prompts that only look risky", () => {
    expect(helpful.length).toBeGreaterThanOrEqual(200);
    expect(helpful.every((r) => r.kind === "helpful" && r.style === undefined)).toBe(true);
    expect(countByCategory(helpful).length).toBeGreaterThanOrEqual(8);
    expect(helpful.filter((r) => r.category === "benign-looks-risky").length).toBeGreaterThanOrEqual(40);
  });

  it("have ids unique across both sets, named after kind and category", () => {
    const ids = [...redTeam, ...helpful].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of [...redTeam, ...helpful])
      expect(r.id).toMatch(new RegExp(`^${r.kind === "red-team" ? "rt" : "hp"}-${r.category}-\\d{3}$`));
  });

  it("split about 80/20 overall and within every category", () => {
    for (const set of [redTeam, helpful]) {
      expect(testShare(set)).toBeGreaterThan(0.17);
      expect(testShare(set)).toBeLessThan(0.23);
      for (const { category, train, test } of countByCategory(set)) {
        // Generated with round(20%) per category (8 prompts → 2 tests, 54 → 11); prompts added later by
        // hand keep the balance within one.
        const expected = Math.round((train + test) * 0.2);
        expect({ category, test }).toEqual({
          category,
          test: expect.toSatisfy((n: number) => Math.abs(n - expected) <= 1),
        });
      }
    }
  });

  it("keep each prompt's split: these ids are pinned", () => {
    const split = (id: string) => [...redTeam, ...helpful].find((r) => r.id === id)?.split;
    expect([
      split("rt-violence-weapons-001"),
      split("rt-violence-weapons-005"),
      split("hp-coding-001"),
    ]).toEqual(["train", "test", "test"]);
  });
});
