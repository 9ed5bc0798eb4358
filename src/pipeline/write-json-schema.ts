// Script: regenerates schema/pipeline.schema.json from the pipeline's zod schema (`tsx src/pipeline/write-json-schema.ts`).
import { writeFormattedJson } from "../io/write-formatted-json.js";
import { pipelineJsonSchemaPath, pipelineJsonSchemaText } from "./pipeline-schema.js";

await writeFormattedJson(pipelineJsonSchemaPath(), await pipelineJsonSchemaText());
