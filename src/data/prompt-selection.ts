// The prompts a stage works on: every prompt set named (built-in or a file), in order, filtered to a
// split and cut to a limit; an id that appears in two sets is refused, naming both files.
import { InputFileError } from "../errors/input-file-error.js";
import { resolvePromptSetFile } from "./builtin-prompt-sets.js";
import { loadPromptSet, type PromptRecord } from "./prompt-set.js";

/** The prompts of `sets` (names like `red-team`, or files) in `split` (`train`, `test` or `all`), first `limit`. */
export async function selectPrompts(
  sets: readonly string[],
  split: string,
  limit?: number,
): Promise<PromptRecord[]> {
  const prompts: PromptRecord[] = [];
  const seen = new Map<string, string>();
  for (const set of sets) {
    const file = resolvePromptSetFile(set);
    for (const record of await loadPromptSet(file)) {
      const other = seen.get(record.id);
      if (other)
        throw new InputFileError(file, `prompt id "${record.id}" is also in ${other}`, { field: "id" });
      seen.set(record.id, file);
      if (split === "all" || record.split === split) prompts.push(record);
    }
  }
  return limit === undefined ? prompts : prompts.slice(0, limit);
}
