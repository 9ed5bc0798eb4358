// The pipeline file format: a zod schema built from the stage kinds' settings (each kind's stage object
// knows exactly its command's flags, so an unknown setting is an error at its key), and the published
// JSON Schema made from it (schema/pipeline.schema.json) so editors complete a pipeline as they do a
// constitution.
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  type StageKindName,
  type StageSetting,
  stageKindNames,
  stageKinds,
  stageSettings,
} from "./stage-kinds.js";

/** Names of models, prompt sets, stages and matrix variables: letters, digits, `_` and `-`. */
const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: "must start with a letter; letters, digits, _ and - only" });

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** One setting's value, by the type of its flag. Strings may hold `${…}` references, resolved when it runs. */
function settingValue(setting: StageSetting): z.ZodType {
  const value = z.union([z.string(), z.number()]);
  const described = (schema: z.ZodType) => schema.meta({ description: setting.description });
  if (setting.type === "flag") return described(z.boolean());
  if (setting.type === "list") return described(z.union([value, z.array(value).min(1)]));
  return described(value);
}

/** The stage object of one kind: its settings, and optionally `for_each` (a stage per value). */
async function stageSchema(kind: StageKindName) {
  const settings = await stageSettings(kind);
  return z.strictObject({
    kind: z.literal(kind).meta({ description: `cai ${stageKinds[kind].command.join(" ")}` }),
    for_each: z.record(identifier, z.array(scalar).min(1)).optional().meta({
      description:
        "Runs the stage once per value (per combination, for several variables); `${each.NAME}` is the value in settings.",
    }),
    ...Object.fromEntries(settings.map((s) => [s.name, settingValue(s).optional()])),
  });
}

/** The schema of a pipeline file. */
export async function pipelineSchema() {
  const stages = await Promise.all(stageKindNames.map(stageSchema));
  const stage = z.discriminatedUnion("kind", stages as unknown as [z.ZodObject, ...z.ZodObject[]], {
    error: (issue) =>
      issue.code === "invalid_union" ? `kind must be one of ${stageKindNames.join(", ")}` : undefined,
  });
  return z.strictObject({
    $schema: z.string().optional().meta({ description: "The JSON Schema, for editors." }),
    name: z.string().optional(),
    seed: z.int().default(0).meta({ description: "`${seed}` in settings." }),
    models: z
      .record(identifier, z.string().regex(/\S/, { error: "must not be empty" }))
      .default({})
      .meta({
        description: "Model spec strings by name (`llama:…`, `openai:…`); `${models.NAME}` in settings.",
      }),
    constitution: z
      .string()
      .optional()
      .meta({ description: "A constitution file; `${constitution}` in settings." }),
    prompts: z
      .record(identifier, z.string().regex(/\S/, { error: "must not be empty" }))
      .default({})
      .meta({
        description: "Prompt sets (red-team, helpful or a file) by name; `${prompts.NAME}` in settings.",
      }),
    stages: z
      .record(identifier, stage)
      .refine((s) => Object.keys(s).length > 0, { error: "a pipeline needs at least one stage" })
      .meta({
        description: "The stages, run in this order; `${stages.ID.OUTPUT}` takes an earlier stage's output.",
      }),
  });
}

/** A pipeline file as loaded (before its stages are expanded and their references resolved). */
export type PipelineFile = z.output<Awaited<ReturnType<typeof pipelineSchema>>>;

/** Where the JSON Schema is committed: `schema/pipeline.schema.json` at the package root. */
export function pipelineJsonSchemaPath(): string {
  return fileURLToPath(new URL("../../schema/pipeline.schema.json", import.meta.url));
}

/** The JSON Schema of a pipeline file as written, in draft-07, as 2-space-indented JSON. */
export async function pipelineJsonSchemaText(): Promise<string> {
  const schema = z.toJSONSchema(await pipelineSchema(), { target: "draft-07", io: "input" });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
