// Imports the prompt files released with the Constitutional AI paper: an object of critique/revision
// principles (`{ name: { prompt: [critique request…], edit_request } }`) and a list of comparison questions.
import { z } from "zod";
import { type StructuredFile, validateStructured } from "../../io/structured-file.js";
import { type ImportedParts, kebabId, withUniqueIds } from "./imported-parts.js";

const nonBlank = z.string().regex(/\S/, { error: "must not be empty" });

const principlesFile = z
  .record(z.string(), z.object({ prompt: z.array(nonBlank).min(1), edit_request: nonBlank }))
  .refine((principles) => Object.keys(principles).length > 0, { error: "the file has no principles" });

const comparisonsFile = z.array(nonBlank).min(1, { error: "the file has no comparison questions" });

/** True when `value` has the shape of the paper's principle file (every entry has an `edit_request`). */
export function looksLikePaperPrinciples(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const entries = Object.values(value);
  return (
    entries.length > 0 &&
    entries.every((entry) => typeof entry === "object" && entry !== null && "edit_request" in entry)
  );
}

/**
 * The principles of a paper-format file. The id is the kebab-cased key. The first `prompt` is the
 * critique request; each further prompt becomes one more principle `<id>-2`, `<id>-3`, … with the same
 * revision request, and the variants of one entry share its weight (1/n each) so that every entry is
 * still drawn as often as any other. Texts are trimmed.
 */
export function importPaperPrinciples(source: StructuredFile): ImportedParts {
  const entries = Object.entries(validateStructured(source, principlesFile));
  const warnings: string[] = [];
  const principles = entries.flatMap(([key, entry], index) => {
    const id = kebabId(key) || `principle-${index + 1}`;
    if (id !== key) warnings.push(`principle "${key}" has the id "${id}"`);
    const weight = 1 / entry.prompt.length;
    return entry.prompt.map((critique, variant) => ({
      id: variant === 0 ? id : `${id}-${variant + 1}`,
      critique: critique.trim(),
      revision: entry.edit_request.trim(),
      ...(entry.prompt.length > 1 ? { weight } : {}),
    }));
  });
  return { principles: withUniqueIds(principles, "principles", warnings), warnings };
}

/**
 * The comparison principles of a paper-format list of questions: ids `comparison-1`, `comparison-2`, …;
 * the trailing "Options:" of each question is dropped, because cai's comparison template adds the
 * options itself.
 */
export function importPaperComparisons(source: StructuredFile): NonNullable<ImportedParts["comparisons"]> {
  return validateStructured(source, comparisonsFile).map((question, index) => ({
    id: `comparison-${index + 1}`,
    question: question.replace(/\s*Options:\s*$/i, "").trim(),
  }));
}
