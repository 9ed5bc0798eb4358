// Imports LangChain-style principle lists: `[{ name, critiqueRequest, revisionRequest }]` (the JS
// spelling) or `critique_request` / `revision_request` (the Python spelling).
import { z } from "zod";
import { type StructuredFile, validateStructured } from "../../io/structured-file.js";
import { type ImportedParts, kebabId, withUniqueIds } from "./imported-parts.js";

const nonBlank = z.string().regex(/\S/, { error: "must not be empty" });

const principle = z
  .object({
    name: nonBlank,
    critiqueRequest: nonBlank.optional(),
    revisionRequest: nonBlank.optional(),
    critique_request: nonBlank.optional(),
    revision_request: nonBlank.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.critiqueRequest === undefined && p.critique_request === undefined)
      ctx.addIssue({ code: "custom", path: ["critiqueRequest"], message: "required field is missing" });
    if (p.revisionRequest === undefined && p.revision_request === undefined)
      ctx.addIssue({ code: "custom", path: ["revisionRequest"], message: "required field is missing" });
  });

const principlesFile = z.array(principle).min(1, { error: "the file has no principles" });

/** True when `value` looks like a LangChain principle list. */
export function looksLikeLangChain(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (item) =>
        typeof item === "object" &&
        item !== null &&
        "name" in item &&
        ("critiqueRequest" in item || "critique_request" in item),
    )
  );
}

/** The principles of a LangChain list, in order, with ids kebab-cased from their names (texts trimmed). */
export function importLangChainPrinciples(source: StructuredFile): ImportedParts {
  const warnings: string[] = [];
  const principles = validateStructured(source, principlesFile).map((p, index) => ({
    id: kebabId(p.name) || `principle-${index + 1}`,
    critique: (p.critiqueRequest ?? p.critique_request ?? "").trim(),
    revision: (p.revisionRequest ?? p.revision_request ?? "").trim(),
  }));
  return { principles: withUniqueIds(principles, "principles", warnings), warnings };
}
