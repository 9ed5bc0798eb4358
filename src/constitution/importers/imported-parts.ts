// What every importer of a foreign constitution format produces, and the id helpers they share.
import type { ConstitutionInput } from "../constitution-schema.js";

type Examples = NonNullable<ConstitutionInput["examples"]>;

/** The parts of a constitution an importer could read from a foreign file, and what it had to skip. */
export interface ImportedParts {
  principles: ConstitutionInput["principles"];
  comparisons?: NonNullable<ConstitutionInput["comparisons"]>;
  critiqueExamples?: NonNullable<Examples["critique"]>;
  /** Things the importer changed or skipped, for the user to read. */
  warnings: string[];
}

/** A name as a kebab-case id: `Harmful Content`, `harmfulContent` and `harmful_content` → `harmful-content`. */
export function kebabId(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * The items with ids made unique: a repeated id gets `-2`, `-3`, … and a warning (two names such as
 * `Harm` and `harm` become the same id once kebab-cased).
 */
export function withUniqueIds<T extends { id: string }>(items: T[], list: string, warnings: string[]): T[] {
  const taken = new Set<string>();
  return items.map((item) => {
    let id = item.id;
    for (let n = 2; taken.has(id); n += 1) id = `${item.id}-${n}`;
    taken.add(id);
    if (id === item.id) return item;
    warnings.push(`${list}: the id "${item.id}" was used twice; renamed the second to "${id}"`);
    return { ...item, id };
  });
}
