// The prompt templates of a constitution: the user turns that ask for a critique and a revision, and the
// multiple-choice question of AI feedback, with `{{name}}` placeholders filled in at run time.
import type { ChatMessage, ChatRole } from "../models/model.js";
import { TemplateError } from "./template-error.js";

/** The templates a constitution can override. */
export type TemplateName = "critique" | "revision" | "comparison";

/** Every template, as used at run time (a constitution's overrides merged over the defaults). */
export type ResolvedTemplates = Record<TemplateName, string>;

/** The placeholders each template must contain; no others are allowed. */
export const templatePlaceholders: Readonly<Record<TemplateName, readonly string[]>> = {
  critique: ["critique_request"],
  revision: ["revision_request"],
  comparison: ["conversation", "question", "response_a", "response_b"],
};

/**
 * The default templates. The critique and revision turns add one instruction each because small models
 * otherwise rewrite the answer while critiquing, or wrap the revision in chatter ("Sure, here is…").
 * The comparison question follows the paper's multiple-choice layout and ends so that the next token
 * is the letter of the chosen option.
 */
export const defaultTemplates: Readonly<ResolvedTemplates> = {
  critique: "{{critique_request}}\n\nWrite only the critique. Do not rewrite the response yet.",
  revision:
    "{{revision_request}}\n\nWrite only the new response itself, with no introduction and no remarks about what changed.",
  comparison: [
    "Here is a conversation between a person and an AI assistant:",
    "",
    "{{conversation}}",
    "",
    "{{question}}",
    "",
    "Options:",
    "(A) {{response_a}}",
    "(B) {{response_b}}",
    "",
    "The answer is: (",
  ].join("\n"),
};

const placeholderPattern = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The placeholder names in a template, in order of appearance (repeats kept). */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(placeholderPattern)].map((match) => match[1] ?? "");
}

/** What is wrong with a template for `name`: missing or unknown placeholders (empty when it is fine). */
export function templateProblems(name: TemplateName, template: string): string[] {
  const allowed = templatePlaceholders[name];
  const found = placeholdersIn(template);
  const problems = allowed
    .filter((placeholder) => !found.includes(placeholder))
    .map((placeholder) => `the ${name} template needs the placeholder {{${placeholder}}}`);
  for (const placeholder of new Set(found.filter((p) => !allowed.includes(p)))) {
    problems.push(
      `unknown placeholder {{${placeholder}}} in the ${name} template (allowed: ${allowed.map((p) => `{{${p}}}`).join(", ")})`,
    );
  }
  return problems;
}

/**
 * Fills the `{{name}}` placeholders of `template` in one pass (values are not searched for
 * placeholders again). Throws a {@link TemplateError} when a placeholder has no value.
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(placeholderPattern, (_match, name: string) => {
    const value = vars[name];
    if (value === undefined)
      throw new TemplateError(
        `no value for the placeholder {{${name}}} (given: ${Object.keys(vars).join(", ")})`,
      );
    return value;
  });
}

/** A constitution's templates with the defaults filled in. */
export function resolveTemplates(constitution: {
  templates?: Partial<Record<TemplateName, string | undefined>> | undefined;
}): ResolvedTemplates {
  const own = constitution.templates ?? {};
  return {
    critique: own.critique ?? defaultTemplates.critique,
    revision: own.revision ?? defaultTemplates.revision,
    comparison: own.comparison ?? defaultTemplates.comparison,
  };
}

/** The values of the comparison template. */
export interface ComparisonVars {
  /** The conversation so far, e.g. from {@link renderConversation}. */
  conversation: string;
  question: string;
  responseA: string;
  responseB: string;
}

const speakers: Readonly<Record<ChatRole, string>> = {
  system: "System",
  user: "Human",
  assistant: "Assistant",
};

/** A conversation as plain text in the paper's style, for `{{conversation}}`: "Human: …" and "Assistant: …" turns. */
export function renderConversation(prompt: string | readonly ChatMessage[]): string {
  const messages = typeof prompt === "string" ? [{ role: "user" as const, content: prompt }] : prompt;
  return messages.map((message) => `${speakers[message.role]}: ${message.content}`).join("\n\n");
}

/** Renders the turns of a constitution's templates; the revision stage takes `critique` and `revision`. */
export interface TurnRenderers {
  critique(critiqueRequest: string): string;
  revision(revisionRequest: string): string;
  comparison(vars: ComparisonVars): string;
}

/** Turn renderers for a constitution (its own templates, else the defaults). */
export function turnRenderers(constitution: Parameters<typeof resolveTemplates>[0]): TurnRenderers {
  const templates = resolveTemplates(constitution);
  return {
    critique: (critiqueRequest) => renderTemplate(templates.critique, { critique_request: critiqueRequest }),
    revision: (revisionRequest) => renderTemplate(templates.revision, { revision_request: revisionRequest }),
    comparison: (vars) =>
      renderTemplate(templates.comparison, {
        conversation: vars.conversation,
        question: vars.question,
        response_a: vars.responseA,
        response_b: vars.responseB,
      }),
  };
}

/**
 * Splits a rendered comparison question before its last line, which the default template leaves as the
 * start of the answer ("The answer is: ("): for a chat model the body is the user turn and the last line
 * begins the assistant's turn; for raw-text scoring use the whole text.
 */
export function splitAnswerPrefix(rendered: string): { question: string; answerPrefix: string } {
  const cut = rendered.lastIndexOf("\n");
  if (cut < 0) return { question: rendered, answerPrefix: "" };
  return { question: rendered.slice(0, cut).trimEnd(), answerPrefix: rendered.slice(cut + 1) };
}
