import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { constitutionJsonSchema, constitutionJsonSchemaPath } from "./json-schema.js";
import { defaultConstitutionPath } from "./load-constitution.js";

describe("the published JSON Schema", () => {
  it("is up to date with the zod schema (regenerate: tsx src/constitution/write-json-schema.ts)", async () => {
    const committed: unknown = JSON.parse(await readFile(constitutionJsonSchemaPath(), "utf8"));
    expect(committed).toEqual(constitutionJsonSchema());
  });

  it("describes the file as written: defaults optional, unknown fields refused", () => {
    const schema = constitutionJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, unknown>;
    };
    expect(schema.required).toEqual(["name", "version", "principles"]);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toContain("templates");
  });

  it("is what the shipped YAML files point editors at", async () => {
    const firstLine = (await readFile(defaultConstitutionPath(), "utf8")).split("\n")[0];
    expect(firstLine).toBe("# yaml-language-server: $schema=../../schema/constitution.schema.json");
  });
});
