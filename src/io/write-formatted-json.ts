// Writes a generated JSON file (a published JSON Schema) and lets biome format it the way `biome check`
// expects, for the scripts that regenerate committed files.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** Writes `text` to `file`, then formats it with the project's biome (a warning when it cannot). */
export async function writeFormattedJson(file: string, text: string): Promise<void> {
  await writeFile(file, text);
  const biome = new URL("../../node_modules/.bin/biome", import.meta.url);
  await promisify(execFile)(fileURLToPath(biome), ["format", "--write", file]).catch((error: unknown) => {
    console.warn(`could not format with biome (${String(error)}); run \`npx biome format --write ${file}\``);
  });
  console.log(`wrote ${file}`);
}
