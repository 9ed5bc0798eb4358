// Script: regenerates schema/constitution.schema.json from the zod schema (`tsx src/constitution/write-json-schema.ts`).
import { writeFormattedJson } from "../io/write-formatted-json.js";
import { constitutionJsonSchemaPath, constitutionJsonSchemaText } from "./json-schema.js";

await writeFormattedJson(constitutionJsonSchemaPath(), constitutionJsonSchemaText());
