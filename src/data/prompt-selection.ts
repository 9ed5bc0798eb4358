// The prompts a stage works on: every prompt set named (built-in or a file, also a file of rows as people
// have them), in order, filtered to a split and cut to a limit; an id in two sets is refused, naming both.
import { InputFileError } from "../errors/input-file-error.js";
import { isBuiltinPromptSetName, resolvePromptSetFile } from "./builtin-prompt-sets.js";
import { loadPromptFile, type PromptFileOptions } from "./prompt-file.js";
import { loadPromptSet, type PromptRecord } from "./prompt-set.js";

/**
 * The prompts of `sets` (names like `red-team`, or files) in `split` (`train`, `test` or `all`), first
 * `limit`. `files` says how to read files whose rows are not cai prompt records (see loadPromptFile).
 */
export async function selectPrompts(
  sets: readonly string[],
  split: string,
  limit?: number,
  files: PromptFileOptions = {},
): Promise<PromptRecord[]> {
  const prompts: PromptRecord[] = [];
  const seen = new Map<string, string>();
  for (const set of sets) {
    const file = resolvePromptSetFile(set);
    const records = isBuiltinPromptSetName(set)
      ? await loadPromptSet(file)
      : await loadPromptFile(file, files);
    for (const record of records) {
      const other = seen.get(record.id);
      if (other)
        throw new InputFileError(file, `prompt id "${record.id}" is also in ${other}`, { field: "id" });
      seen.set(record.id, file);
      if (split === "all" || record.split === split) prompts.push(record);
    }
  }
  return limit === undefined ? prompts : prompts.slice(0, limit);
}
