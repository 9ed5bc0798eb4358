// Which Hugging Face model a PEFT adapter names as `base_model_name_or_path`, read from the base GGUF's
// metadata, so `AutoPeftModelForCausalLM.from_pretrained(dir)` finds the weights the adapter was trained on.

import type { GgufPlain } from "../../gguf/gguf-value.js";
import { GgufFile } from "../../gguf/reader.js";

/** A base model id and where it came from. */
export interface PeftBaseModel {
  /** A Hugging Face repo id, e.g. `HuggingFaceTB/SmolLM2-135M-Instruct`. */
  readonly id: string;
  /** The metadata key (or keys) it was read from. */
  readonly source: string;
  /**
   * True when it is the model the GGUF's model card names as *its* base (`general.base_model.*`): the
   * parent of a fine-tune, which is the right base only when the GGUF is not itself a fine-tune of it.
   */
  readonly parent: boolean;
}

// Hugging Face's repo id rules: two parts of letters, digits, `-`, `_`, `.`, each at most 96 characters.
const repoIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;
// First path segments of huggingface.co URLs that are not model repositories.
const notModelPaths = new Set([
  "datasets",
  "spaces",
  "docs",
  "api",
  "collections",
  "papers",
  "blog",
  "models",
]);

/**
 * The id in `value` when it is a Hugging Face model repo id, or undefined. A `…-GGUF` repo holds only
 * GGUF files, which PEFT cannot load as a base, so it does not count.
 */
export function asRepoId(value: GgufPlain | undefined): string | undefined {
  if (typeof value !== "string" || !repoIdPattern.test(value)) return undefined;
  return /gguf$/i.test(value) ? undefined : value;
}

/** The repo id of a Hugging Face model URL (`https://huggingface.co/ORG/NAME[/…]`, also `hf.co`), or undefined. */
export function repoIdOfUrl(value: GgufPlain | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (!["huggingface.co", "www.huggingface.co", "hf.co"].includes(url.hostname)) return undefined;
  const [org, name] = url.pathname.split("/").filter((part) => part !== "");
  if (org === undefined || name === undefined || notModelPaths.has(org)) return undefined;
  return asRepoId(`${org}/${name}`);
}

/**
 * The base model id from GGUF metadata, trying in order:
 * 1. `general.source.repo_url`, `general.source.url` (Hugging Face URLs), `general.source.huggingface.repository`
 *    (an id, as older converters wrote it): the model this GGUF was converted from — exactly the base;
 * 2. `general.base_model.0.repo_url`, else `general.base_model.0.organization` + `.name` when they form an
 *    id, only when `general.base_model.count` is 1 (a merge has no single base): the model card's parent;
 * 3. `general.name`, only when it is itself a repo id (`ORG/NAME`).
 * Undefined when none holds a Hugging Face model id.
 */
export function peftBaseModelOfMetadata(
  metadata: (key: string) => GgufPlain | undefined,
): PeftBaseModel | undefined {
  for (const key of ["general.source.repo_url", "general.source.url"]) {
    const id = repoIdOfUrl(metadata(key));
    if (id) return { id, source: key, parent: false };
  }
  const legacy = asRepoId(metadata("general.source.huggingface.repository"));
  if (legacy) return { id: legacy, source: "general.source.huggingface.repository", parent: false };
  if (metadata("general.base_model.count") === 1) {
    const fromUrl = repoIdOfUrl(metadata("general.base_model.0.repo_url"));
    if (fromUrl) return { id: fromUrl, source: "general.base_model.0.repo_url", parent: true };
    const organization = metadata("general.base_model.0.organization");
    const name = metadata("general.base_model.0.name");
    const joined = asRepoId(`${String(organization)}/${String(name)}`);
    if (joined && typeof organization === "string" && typeof name === "string")
      return { id: joined, source: "general.base_model.0.organization and .name", parent: true };
  }
  const named = asRepoId(metadata("general.name"));
  if (named) return { id: named, source: "general.name", parent: false };
  return undefined;
}

/** {@link peftBaseModelOfMetadata} of the GGUF file `base` (reads its header only). */
export async function peftBaseModelOfGguf(base: string): Promise<PeftBaseModel | undefined> {
  const file = await GgufFile.open(base);
  try {
    return peftBaseModelOfMetadata((key) => file.metadataValue(key));
  } finally {
    await file.close();
  }
}

/**
 * The `base_model_name_or_path` of a run's PEFT adapter: `given` (the `--base-model-id` flag) when set,
 * else what the GGUF names; a warning through `warn` when it is unknown (null) or only the card's parent.
 */
export async function resolvePeftBaseModel(
  base: string,
  given: string | undefined,
  warn: (message: string) => void,
): Promise<string | undefined> {
  if (given !== undefined) return given;
  const found = await peftBaseModelOfGguf(base);
  const flag = "pass --base-model-id ORG/NAME (baseModelId in the library)";
  if (found === undefined) {
    warn(
      `${base} names no Hugging Face model (general.source.url, general.base_model.*, general.name), so the PEFT ` +
        `adapter's adapter_config.json has base_model_name_or_path null and AutoPeftModelForCausalLM cannot ` +
        `find its base: ${flag}`,
    );
    return undefined;
  }
  if (found.parent)
    warn(
      `the PEFT adapter names ${found.id} as its base, from ${found.source}: the parent model ${base}'s ` +
        `model card names; if ${base} was fine-tuned from it rather than converted from it, ${flag}`,
    );
  return found.id;
}
