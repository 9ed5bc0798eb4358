// The prompt sets this project ships in data/prompts/, found relative to the package root so they
// resolve the same from src/ (under tsx) and from dist/.
import { fileURLToPath } from "node:url";
import type { PromptKind, PromptRecord } from "./prompt-set.js";
import { loadPromptSet } from "./prompt-set.js";

/** Names of the built-in prompt sets: one per prompt kind. */
export type BuiltinPromptSetName = PromptKind;

/** True when `name` names a built-in prompt set rather than a file. */
export function isBuiltinPromptSetName(name: string): name is BuiltinPromptSetName {
  return name === "red-team" || name === "helpful";
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

/** The file a user means: a built-in set's path for `red-team` or `helpful`, otherwise the name itself. */
export function resolvePromptSetFile(nameOrFile: string): string {
  return isBuiltinPromptSetName(nameOrFile) ? builtinPromptSetPath(nameOrFile) : nameOrFile;
}
