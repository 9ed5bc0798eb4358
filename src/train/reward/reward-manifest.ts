// `reward.json`, the manifest of a saved preference (reward) model directory: which base GGUF model, which
// LoRA adapter and scalar-head files beside it, and how conversations were tokenised, so a scorer can load
// exactly what training produced. Written last and atomically (temporary file, then rename), so a directory
// with a reward.json is always complete.
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { checkSchema } from "../../data/schema-issue.js";
import { InputFileError } from "../../errors/input-file-error.js";

/** The manifest's file name inside a reward model directory. */
export const rewardManifestFile = "reward.json";

/** The `format` every manifest carries. */
export const rewardModelFormat = "cai-reward-model";

const fileName = z
  .string()
  .min(1)
  .refine((name) => path.basename(name) === name, "must be a file name inside the directory, not a path");

const metric = z.number().nullable();

const manifestSchema = z.strictObject({
  format: z.literal(rewardModelFormat),
  version: z.literal(1),
  base: z.string().min(1),
  adapter: fileName,
  head: fileName,
  architecture: z.string().min(1),
  dim: z.int().positive(),
  lora: z.strictObject({
    rank: z.int().positive(),
    alpha: z.number().positive(),
    targets: z.array(z.string().min(1)).min(1),
  }),
  endOfTurn: z.array(z.int().nonnegative()),
  metrics: z.record(z.string(), metric).optional(),
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

/** The content of `reward.json`. */
export type RewardManifest = z.output<typeof manifestSchema>;

/**
 * Reads and validates `dir/reward.json`. Relative `base` paths resolve against `dir`. Throws
 * {@link InputFileError} naming the file (and the field) when it is missing, not JSON or malformed.
 */
export async function readRewardManifest(dir: string): Promise<RewardManifest> {
  const file = path.join(dir, rewardManifestFile);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new InputFileError(
      file,
      missing
        ? "no such file; a reward model directory holds the reward.json that `cai train rm` writes"
        : `cannot be read (${error instanceof Error ? error.message : String(error)})`,
      {},
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputFileError(file, `is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const checked = checkSchema(manifestSchema, value);
  if (!checked.success)
    throw new InputFileError(
      file,
      checked.problem,
      checked.field === undefined ? {} : { field: checked.field },
    );
  return { ...checked.data, base: path.resolve(dir, checked.data.base) };
}

/** Writes `manifest` as `dir/reward.json`, atomically (a temporary file renamed over it). */
export async function writeRewardManifest(dir: string, manifest: RewardManifest): Promise<string> {
  const checked = checkSchema(manifestSchema, manifest);
  if (!checked.success)
    throw new InputFileError(
      path.join(dir, rewardManifestFile),
      `refusing to write an invalid manifest: ${checked.problem}`,
      checked.field === undefined ? {} : { field: checked.field },
    );
  const file = path.join(dir, rewardManifestFile);
  const temporary = path.join(dir, `.${rewardManifestFile}.${process.pid}.tmp`);
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, file);
  return file;
}
