// The constitution file format: a zod schema (strict, with cross-field checks) and the TypeScript types
// of a loaded constitution. The published JSON Schema (schema/constitution.schema.json) is made from it.
import { z } from "zod";
import { type TemplateName, templateProblems } from "./templates.js";

const kebabCase = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** A non-blank string. */
const text = (description: string) =>
  z.string().regex(/\S/, { error: "must not be empty" }).meta({ description });

const principleId = (description: string) =>
  z
    .string()
    .regex(kebabCase, { error: "must be kebab-case: lower-case letters and digits joined by single hyphens" })
    .meta({ description });

const tags = z
  .array(z.string().regex(/\S/, { error: "must not be empty" }))
  .optional()
  .meta({ description: "Free labels for filtering and reports, e.g. [harm, violence]." });

const weight = z
  .number()
  .positive()
  .default(1)
  .meta({ description: "How often the principle is drawn, relative to the others (with replacement)." });

const chatMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: text("The text of the message."),
});

const prompt = z
  .union([text("A single user turn."), z.array(chatMessage).min(1)], {
    error: "expected a string or a list of {role, content} messages",
  })
  .meta({
    description: "The conversation before the response: one user turn, or messages ending with a user turn.",
  });

const critiquePrinciple = z
  .strictObject({
    id: principleId("Unique id of the principle, kebab-case."),
    critique: text("The critique request: asks the model to find what is wrong with its last response."),
    revision: text("The revision request: asks the model to rewrite its response accordingly."),
    tags,
    weight,
  })
  .meta({ description: "A critique → revision principle." });

const comparisonPrinciple = z
  .strictObject({
    id: principleId("Unique id of the comparison principle, kebab-case."),
    question: text(
      "The question the feedback model answers with (A) or (B), e.g. which response is less harmful.",
    ),
    tags,
    weight,
  })
  .meta({ description: "A comparison principle for AI feedback." });

const critiqueExample = z
  .strictObject({
    prompt,
    response: text("The draft response being critiqued."),
    principle: principleId("Id of the principle this example applies (one of `principles`).").optional(),
    critiqueRequest: text(
      "The critique request this example answers, when it names no principle (imported examples).",
    ).optional(),
    revisionRequest: text(
      "The revision request this example answers, when it names no principle.",
    ).optional(),
    critique: text("The critique of the draft."),
    revision: text("The rewritten response; the draft itself when nothing needed to change."),
  })
  .meta({ description: "A worked critique → revision example, placed before the conversation (few-shot)." });

const comparisonExample = z
  .strictObject({
    prompt,
    a: text("Response (A)."),
    b: text("Response (B)."),
    principle: principleId("Id of the comparison principle this example applies.").optional(),
    answer: z.enum(["A", "B"]).meta({ description: "The better response under the principle." }),
    reasoning: text("Step-by-step reasoning before the answer (chain-of-thought labelling).").optional(),
  })
  .meta({ description: "A worked comparison example for AI feedback (few-shot)." });

const template = (name: TemplateName, description: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      for (const message of templateProblems(name, value)) ctx.addIssue({ code: "custom", message });
    })
    .optional()
    .meta({ description });

/** The zod schema of a constitution file (YAML or JSON). */
export const constitutionSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: "JSON Schema of this file, for editors." }),
    name: text("Name of the constitution, e.g. cai-default."),
    version: text('Version of the constitution, as a string (quote it in YAML: "1.0.0").'),
    description: z.string().optional().meta({ description: "What the constitution is for." }),
    principles: z
      .array(critiquePrinciple)
      .min(1, { error: "a constitution needs at least one critique/revision principle" }),
    comparisons: z
      .array(comparisonPrinciple)
      .default([])
      .meta({ description: "Comparison principles for AI feedback; may be empty for revision only." }),
    examples: z
      .strictObject({
        critique: z.array(critiqueExample).default([]),
        comparison: z.array(comparisonExample).default([]),
      })
      .default({ critique: [], comparison: [] })
      .meta({ description: "Few-shot examples." }),
    templates: z
      .strictObject({
        critique: template("critique", "The critique turn; needs {{critique_request}}."),
        revision: template("revision", "The revision turn; needs {{revision_request}}."),
        comparison: template(
          "comparison",
          "The comparison question; needs {{conversation}}, {{question}}, {{response_a}} and {{response_b}}.",
        ),
      })
      .optional()
      .meta({ description: "Overrides of the default prompt templates." }),
  })
  .superRefine((constitution, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
    checkUniqueIds(constitution.principles, "principles", issue);
    checkUniqueIds(constitution.comparisons, "comparisons", issue);
    const principleIds = new Set(constitution.principles.map((p) => p.id));
    const comparisonIds = new Set(constitution.comparisons.map((p) => p.id));
    constitution.examples.critique.forEach((example, i) => {
      const at = ["examples", "critique", i];
      if (example.principle !== undefined && !principleIds.has(example.principle))
        issue([...at, "principle"], `no principle has the id "${example.principle}"`);
      if (example.principle !== undefined && (example.critiqueRequest || example.revisionRequest))
        issue(at, "give either a principle or critiqueRequest and revisionRequest, not both");
      if ((example.critiqueRequest === undefined) !== (example.revisionRequest === undefined))
        issue(at, "critiqueRequest and revisionRequest go together: give both or neither");
      checkPromptEndsWithUser(example.prompt, [...at, "prompt"], issue);
    });
    constitution.examples.comparison.forEach((example, i) => {
      const at = ["examples", "comparison", i];
      if (example.principle !== undefined && !comparisonIds.has(example.principle))
        issue([...at, "principle"], `no comparison principle has the id "${example.principle}"`);
      checkPromptEndsWithUser(example.prompt, [...at, "prompt"], issue);
    });
  })
  .meta({
    title: "cai constitution",
    description: "Principles, few-shot examples and templates for Constitutional AI with cai.",
  });

type Issue = (path: PropertyKey[], message: string) => void;

function checkUniqueIds(items: ReadonlyArray<{ id: string }>, list: string, issue: Issue): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const earlier = first.get(item.id);
    if (earlier === undefined) first.set(item.id, i);
    else issue([list, i, "id"], `duplicate id "${item.id}" (already used by ${list}[${earlier}])`);
  });
}

function checkPromptEndsWithUser(prompt: string | ChatMessageInput[], at: PropertyKey[], issue: Issue): void {
  if (typeof prompt === "string") return;
  const last = prompt.length - 1;
  if (prompt[last]?.role !== "user")
    issue([...at, last, "role"], "the prompt must end with a user message (the response answers it)");
}

type ChatMessageInput = z.output<typeof chatMessage>;

/** A constitution as loaded: defaults filled in (weights 1, empty lists). */
export type Constitution = z.output<typeof constitutionSchema>;
/** A constitution as written in a file: optional fields may be left out. */
export type ConstitutionInput = z.input<typeof constitutionSchema>;
/** A critique → revision principle: `critique` and `revision` are the requests sent to the model. */
export type CritiquePrinciple = z.output<typeof critiquePrinciple>;
/** A comparison principle: the question the feedback model answers with (A) or (B). */
export type ComparisonPrinciple = z.output<typeof comparisonPrinciple>;
/** A few-shot critique → revision example. */
export type CritiqueExample = z.output<typeof critiqueExample>;
/** A few-shot comparison example. */
export type ComparisonExample = z.output<typeof comparisonExample>;
/** A constitution's overrides of the default prompt templates. */
export type ConstitutionTemplates = NonNullable<Constitution["templates"]>;
