// The preference-model reward source around answers a preference model cannot score: an empty answer (a
// sampler that ends the turn at once) gets its group's lowest score, and is never sent to the model.
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../models/model.js";
import type { RewardModel } from "../reward/load-reward-model.js";
import { rewardModelSource } from "./reward-source.js";

/** A reward model that scores an answer by its length and refuses empty answers, as the trained one does. */
function lengthModel(): RewardModel & { scored: string[] } {
  const scored: string[] = [];
  const score = async (messages: readonly ChatMessage[]) => {
    const content = messages.at(-1)?.content ?? "";
    if (content === "") throw new Error("empty answer scored");
    scored.push(content);
    return content.length;
  };
  return {
    fingerprint: "length",
    scored,
    score,
    scoreMany: async (conversations) => Promise.all(conversations.map(score)),
    close: async () => {},
  };
}

describe("rewardModelSource", () => {
  const conversation: ChatMessage[] = [{ role: "user", content: "hi" }];

  it("scores every answer, and an empty one as the group's worst", async () => {
    const model = lengthModel();
    const scores = await rewardModelSource(model).scoreGroup(conversation, ["abc", "", "a", "abcdef"], 0);
    expect(scores).toEqual([3, 1, 1, 6]);
    expect(model.scored).toEqual(["abc", "a", "abcdef"]);
  });

  it("gives a group of empty answers 0 without asking the model", async () => {
    const model = lengthModel();
    expect(await rewardModelSource(model).scoreGroup(conversation, ["", ""], 0)).toEqual([0, 0]);
    expect(model.scored).toEqual([]);
  });
});
