// Writes a constitution as a YAML file people can read and edit, headed by the comment that points
// editors at the JSON Schema.
import { Document, isMap, isScalar, isSeq, visit } from "yaml";
import type { Constitution } from "./constitution-schema.js";

/** Options of {@link constitutionToYaml}. */
export interface ConstitutionToYamlOptions {
  /** Path or URL of the JSON Schema, as editors should resolve it from the file's folder. */
  schema?: string;
}

/**
 * The constitution as YAML. Values equal to their defaults (weight 1, empty example lists) are left
 * out, tags are written `[a, b]`, sections and list items are separated by blank lines, and long texts
 * stay on one line (multi-line texts become `|` blocks), so the file reads like one written by hand; loading it again gives the same constitution.
 */
export function constitutionToYaml(
  constitution: Constitution,
  options: ConstitutionToYamlOptions = {},
): string {
  const { $schema: _editorHint, ...content } = constitution;
  const withoutDefaultWeight = <T extends { weight: number }>(item: T) => {
    const { weight, ...rest } = item;
    return weight === 1 ? rest : item;
  };
  const examples = Object.fromEntries(Object.entries(content.examples).filter(([, list]) => list.length > 0));
  const document = new Document({
    ...content,
    principles: content.principles.map(withoutDefaultWeight),
    comparisons: content.comparisons.map(withoutDefaultWeight),
    examples: Object.keys(examples).length > 0 ? examples : undefined,
  });
  layOut(document);
  if (options.schema) document.commentBefore = ` yaml-language-server: $schema=${options.schema}`;
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

const sections = new Set(["principles", "comparisons", "examples", "templates"]);

/** Blank lines before the top-level sections and between list items; tags in flow style. */
function layOut(document: Document): void {
  visit(document, {
    Pair(_key, pair, path) {
      if (!isScalar(pair.key)) return;
      const topLevel = path.length === 2;
      if (topLevel && sections.has(String(pair.key.value))) pair.key.spaceBefore = true;
      if (pair.key.value === "tags" && isSeq(pair.value)) pair.value.flow = true;
    },
    Seq(_key, seq, path) {
      // Only the principle, comparison and example lists; not the messages inside an example's prompt.
      if (path.length > 5) return;
      seq.items.forEach((item, i) => {
        if (i > 0 && isMap(item)) item.spaceBefore = true;
      });
    },
  });
}
