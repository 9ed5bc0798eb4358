// The prompt sets this project ships in data/prompts/, found relative to the package root so they
// resolve the same from src/ (under tsx) and from dist/.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PromptKind, PromptRecord } from "./prompt-set.js";
import { loadPromptSet } from "./prompt-set.js";
import { UnknownPromptSetError } from "./unknown-prompt-set-error.js";

/** Names of the built-in prompt sets: one per prompt kind. */
export type BuiltinPromptSetName = PromptKind;

/** The built-in prompt sets, in the order they are listed. */
export const builtinPromptSetNames = [
  "red-team",
  "helpful",
] as const satisfies readonly BuiltinPromptSetName[];

/** True when `name` names a built-in prompt set rather than a file. */
export function isBuiltinPromptSetName(name: string): name is BuiltinPromptSetName {
  return (builtinPromptSetNames as readonly string[]).includes(name);
}

/** Absolute path of a built-in prompt set, e.g. `<package>/data/prompts/red-team.jsonl`. */
export function builtinPromptSetPath(name: BuiltinPromptSetName): string {
  // This file sits at src/data/ or dist/data/: two levels below the package root either way.
  return fileURLToPath(new URL(`../../data/prompts/${name}.jsonl`, import.meta.url));
}

/** Loads a built-in prompt set. */
export function loadBuiltinPromptSet(name: BuiltinPromptSetName): Promise<PromptRecord[]> {
  return loadPromptSet(builtinPromptSetPath(name));
}

/** Edits (insertions, deletions, substitutions) from `a` to `b`; by hand: two short names, no library. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The file a user means: a built-in set's path for `red-team` or `helpful`, otherwise the name itself
 * when such a file exists. Anything else throws {@link UnknownPromptSetError}, suggesting the built-in
 * set within 3 edits (`red-tem` → red-team).
 */
export function resolvePromptSetFile(nameOrFile: string): string {
  if (isBuiltinPromptSetName(nameOrFile)) return builtinPromptSetPath(nameOrFile);
  if (existsSync(nameOrFile)) return nameOrFile;
  const ranked = builtinPromptSetNames
    .map((name) => ({ name, distance: editDistance(nameOrFile.toLowerCase(), name) }))
    .sort((a, b) => a.distance - b.distance);
  const closest = ranked[0] && ranked[0].distance <= 3 ? ranked[0].name : undefined;
  throw new UnknownPromptSetError(nameOrFile, builtinPromptSetNames, closest);
}
