// Loads constitutions (the user's YAML/JSON files, or the built-in one) and fingerprints them, so a run
// can tell when the constitution it was started with has changed.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { canonicalJson } from "../io/canonical-json.js";
import { parseStructuredText, readStructuredFile, validateStructured } from "../io/structured-file.js";
import { type Constitution, constitutionSchema } from "./constitution-schema.js";
import { resolveTemplates } from "./templates.js";

/**
 * Loads and validates a constitution from a `.yaml`, `.yml` or `.json` file. Any problem (not UTF-8, a
 * syntax error, a missing field, a wrong type, no principles, a duplicate id…) is one `InputFileError`
 * naming the file, the line:column and the field.
 */
export async function loadConstitution(file: string): Promise<Constitution> {
  return validateStructured(await readStructuredFile(file), constitutionSchema);
}

/** Parses and validates constitution text (YAML or JSON); `file` names it in errors. */
export function parseConstitution(text: string, file = "<constitution>"): Constitution {
  return validateStructured(parseStructuredText(file, text), constitutionSchema);
}

/** Path of a constitution shipped in the package's `data/constitutions/`, e.g. `default`. */
export function builtInConstitutionPath(name: string): string {
  // Two levels below the package root both as src/constitution (tsx) and dist/constitution (built).
  return fileURLToPath(new URL(`../../data/constitutions/${name}.yaml`, import.meta.url));
}

/** Path of cai's default constitution (`data/constitutions/default.yaml`). */
export function defaultConstitutionPath(): string {
  return builtInConstitutionPath("default");
}

/** Loads cai's default constitution. */
export function loadDefaultConstitution(): Promise<Constitution> {
  return loadConstitution(defaultConstitutionPath());
}

/**
 * A stable SHA-256 (hex) of what a constitution makes the model see: its canonical JSON, with object
 * keys sorted, defaults filled in (a left-out weight hashes like `weight: 1`) and the templates resolved
 * (leaving them out hashes like writing the defaults). Formatting, comments, key order and `$schema`
 * do not change it.
 */
export function constitutionHash(constitution: Constitution): string {
  const { $schema: _editorHint, ...content } = constitution;
  const canonical = canonicalJson({ ...content, templates: resolveTemplates(constitution) });
  return createHash("sha256").update(canonical).digest("hex");
}
