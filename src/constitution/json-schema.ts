// The published JSON Schema of constitution files, generated from the zod schema so the two never
// disagree; editors use it to complete and check the YAML (see schema/constitution.schema.json).
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { constitutionSchema } from "./constitution-schema.js";

/** Where the JSON Schema is committed: `schema/constitution.schema.json` at the package root. */
export function constitutionJsonSchemaPath(): string {
  return fileURLToPath(new URL("../../schema/constitution.schema.json", import.meta.url));
}

/**
 * The JSON Schema of a constitution file as written (defaults optional), in draft-07, which YAML and
 * JSON editors support best. Cross-field rules (unique ids, known principle ids in examples, template
 * placeholders) are checked by cai when it loads the file, not by the schema.
 */
export function constitutionJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(constitutionSchema, { target: "draft-07", io: "input" }) as Record<string, unknown>;
}

/** The file's text: the schema as 2-space-indented JSON and a final newline. */
export function constitutionJsonSchemaText(): string {
  return `${JSON.stringify(constitutionJsonSchema(), null, 2)}\n`;
}
