// Script: regenerates schema/constitution.schema.json from the zod schema (`tsx src/constitution/write-json-schema.ts`),
// then lets biome format it the way `biome check` expects.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { constitutionJsonSchemaPath, constitutionJsonSchemaText } from "./json-schema.js";

const file = constitutionJsonSchemaPath();
await writeFile(file, constitutionJsonSchemaText());
const biome = new URL("../../node_modules/.bin/biome", import.meta.url);
await promisify(execFile)(fileURLToPath(biome), ["format", "--write", file]).catch((error: unknown) => {
  console.warn(`could not format with biome (${String(error)}); run \`npx biome format --write ${file}\``);
});
console.log(`wrote ${file}`);
