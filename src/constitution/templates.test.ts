import { describe, expect, it } from "vitest";
import { TemplateError } from "./template-error.js";
import {
  defaultTemplates,
  renderConversation,
  renderTemplate,
  resolveTemplates,
  splitAnswerPrefix,
  templatePlaceholders,
  templateProblems,
  turnRenderers,
} from "./templates.js";

describe("prompt templates", () => {
  it("fills placeholders once, with or without spaces inside the braces", () => {
    expect(renderTemplate("Q: {{question}} / {{ question }}", { question: "why?" })).toBe("Q: why? / why?");
    // A value that looks like a placeholder is not filled again.
    expect(renderTemplate("{{a}} {{b}}", { a: "{{b}}", b: "x" })).toBe("{{b}} x");
  });

  it("throws a TemplateError naming a placeholder without a value", () => {
    const error = (() => {
      try {
        return renderTemplate("Hello {{name}}", { other: "x" });
      } catch (e) {
        return e;
      }
    })();
    expect(TemplateError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe("no value for the placeholder {{name}} (given: other)");
  });

  it("finds missing and unknown placeholders; the defaults have none", () => {
    for (const name of ["critique", "revision", "comparison"] as const)
      expect(templateProblems(name, defaultTemplates[name])).toEqual([]);
    expect(templateProblems("revision", "Rewrite: {{revision}}")).toEqual([
      "the revision template needs the placeholder {{revision_request}}",
      "unknown placeholder {{revision}} in the revision template (allowed: {{revision_request}})",
    ]);
    expect(templatePlaceholders.comparison).toHaveLength(4);
  });

  it("renders the default turns, and a constitution's own templates over the defaults", () => {
    const turns = turnRenderers({});
    expect(turns.critique("Is it harmful?")).toBe(
      "Is it harmful?\n\nWrite only the critique. Do not rewrite the response yet.",
    );
    expect(turns.revision("Rewrite it.").startsWith("Rewrite it.\n\n")).toBe(true);
    const question = turns.comparison({
      conversation: renderConversation([
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
        { role: "user", content: "How do I stay safe hiking?" },
      ]),
      question: "Which response is more helpful?",
      responseA: "Tell someone your route.",
      responseB: "I can't help.",
    });
    expect(question).toBe(
      [
        "Here is a conversation between a person and an AI assistant:",
        "",
        "Human: Hi\n\nAssistant: Hello\n\nHuman: How do I stay safe hiking?",
        "",
        "Which response is more helpful?",
        "",
        "Options:",
        "(A) Tell someone your route.",
        "(B) I can't help.",
        "",
        "The answer is: (",
      ].join("\n"),
    );
    expect(splitAnswerPrefix(question).answerPrefix).toBe("The answer is: (");
    expect(splitAnswerPrefix(question).question.endsWith("(B) I can't help.")).toBe(true);
    const own = resolveTemplates({ templates: { critique: "Critique request: {{critique_request}}" } });
    expect(own.critique).toBe("Critique request: {{critique_request}}");
    expect(own.revision).toBe(defaultTemplates.revision);
    expect(turnRenderers({ templates: own }).critique("X")).toBe("Critique request: X");
    expect(renderConversation("Just one turn")).toBe("Human: Just one turn");
  });
});
