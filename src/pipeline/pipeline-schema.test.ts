// The published JSON Schema of pipeline files is the zod schema's, and knows each stage kind's settings
// (its command's flags), so an editor completes and checks them.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { pipelineJsonSchemaPath, pipelineJsonSchemaText } from "./pipeline-schema.js";
import { stageSettings } from "./stage-kinds.js";

describe("the pipeline JSON Schema", () => {
  it("is up to date with the zod schema (regenerate: npm run schema)", async () => {
    const committed: unknown = JSON.parse(await readFile(pipelineJsonSchemaPath(), "utf8"));
    expect(committed).toEqual(JSON.parse(await pipelineJsonSchemaText()));
  });

  it("gives each stage kind its command's settings, without the runner's --out", async () => {
    const schema = JSON.parse(await pipelineJsonSchemaText()) as {
      properties: { stages: { additionalProperties: { oneOf?: unknown[]; anyOf?: unknown[] } } };
    };
    const union = schema.properties.stages.additionalProperties;
    const kinds = (union.oneOf ?? union.anyOf ?? []) as Array<{
      properties: { kind: { const: string } } & Record<string, unknown>;
      additionalProperties: boolean;
    }>;
    const sft = kinds.find((k) => k.properties.kind.const === "sft");
    expect(sft?.additionalProperties).toBe(false);
    expect(Object.keys(sft?.properties ?? {})).toEqual(
      expect.arrayContaining(["base", "data", "merge", "steps", "for_each"]),
    );
    expect(Object.keys(sft?.properties ?? {})).not.toContain("out");
    const exportSettings = (await stageSettings("export")).map((s) => [s.name, s.type, s.position]);
    expect(exportSettings[0]).toEqual(["run-dir", "value", 0]);
    expect((await stageSettings("respond")).find((s) => s.name === "model")?.type).toBe("list");
  });
});
