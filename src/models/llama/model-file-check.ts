// Checks a `llama:` model file and its adapters with cai's own GGUF reader before node-llama-cpp sees
// them: its parser and llama.cpp take minutes and gigabytes (or crash) on damaged files this rejects at once.
import { stat } from "node:fs/promises";
import path from "node:path";
import { GgufFormatError } from "../../gguf/gguf-format-error.js";
import { GgufFile } from "../../gguf/reader.js";
import { ModelLoadError } from "../errors/model-load-error.js";

/** llama.cpp's GGML_MAX_NAME: tensor names must be shorter (it refuses the file otherwise). */
const MAX_TENSOR_NAME_BYTES = 63;

/** What the check learnt about a file that passed it. */
interface CheckedFile {
  architecture: string;
  type: string | undefined;
}

/** Files already checked in this process, by path, size and modification time (a rewrite is checked again). */
const checked = new Map<string, Promise<CheckedFile>>();

/**
 * Checks a base model and its LoRA adapters: well-formed GGUF (header, metadata, tensor infos, every
 * tensor's data inside the file, laid out as llama.cpp requires), `general.architecture` present, adapters
 * marked as adapters and made for the base's architecture. Reads only the files' headers, so it is cheap
 * for a model of any size. Throws ModelLoadError naming the file (its cause a GgufFormatError).
 */
export async function checkLlamaFiles(
  modelPath: string,
  adapterPaths: readonly string[] = [],
): Promise<void> {
  const base = await checkFile(modelPath);
  if (base.type === "adapter") {
    const hint = `a LoRA adapter, not a model: load it on its base model as llama:BASE.gguf+${modelPath}`;
    throw invalid(modelPath, `general.type is "adapter": this is ${hint}`);
  }
  for (const adapterPath of adapterPaths) {
    const adapter = await checkFile(adapterPath);
    if (adapter.type !== "adapter") {
      const type = adapter.type === undefined ? "missing" : JSON.stringify(adapter.type);
      throw invalid(adapterPath, `general.type is ${type}, not "adapter": this is not a LoRA adapter`);
    }
    if (adapter.architecture !== base.architecture) {
      const problem = `the adapter is for architecture "${adapter.architecture}", but ${modelPath} is "${base.architecture}"`;
      throw invalid(adapterPath, problem);
    }
  }
}

function checkFile(filePath: string): Promise<CheckedFile> {
  return stat(filePath).then(
    (info) => {
      const key = `${path.resolve(filePath)}#${info.size}#${info.mtimeMs}`;
      let result = checked.get(key);
      if (result === undefined) {
        result = readChecked(filePath);
        checked.set(key, result);
        // A failure is not remembered: the user may fix the file in place with the same mtime granularity.
        result.catch(() => checked.delete(key));
      }
      return result;
    },
    () => {
      throw new ModelLoadError(filePath, "no such file");
    },
  );
}

async function readChecked(filePath: string): Promise<CheckedFile> {
  let file: GgufFile;
  try {
    file = await GgufFile.open(filePath);
  } catch (error) {
    if (GgufFormatError.isInstance(error)) throw fromFormatError(filePath, error);
    throw error;
  }
  try {
    checkLayout(file);
    const architecture = file.metadataValue("general.architecture");
    if (typeof architecture !== "string" || architecture === "") {
      const got = architecture === undefined ? "missing" : `${JSON.stringify(architecture)}, not a name`;
      throw invalid(filePath, `general.architecture is ${got}; every llama.cpp model and adapter names it`);
    }
    const type = file.metadataValue("general.type");
    return { architecture, type: typeof type === "string" ? type : undefined };
  } finally {
    await file.close();
  }
}

/**
 * llama.cpp's own rules beyond the GGUF reader's (gguf_init_from_file): tensor names under 64 bytes, and
 * tensor data in file order, each tensor's data right after the previous one's, padded to the alignment.
 * A damaged tensor count or offset breaks this even where every tensor still lies inside the file.
 */
function checkLayout(file: GgufFile): void {
  let expected = 0;
  for (const tensor of file.tensors) {
    if (Buffer.byteLength(tensor.name) > MAX_TENSOR_NAME_BYTES) {
      const problem = `tensor name ${JSON.stringify(tensor.name.slice(0, 80))} is longer than ${MAX_TENSOR_NAME_BYTES} bytes`;
      throw invalid(file.path, `${problem}; the tensor infos are corrupt`);
    }
    // A type cai cannot size: its offset cannot be predicted, so llama.cpp judges the rest.
    if (tensor.byteSize === undefined) return;
    if (tensor.offset !== expected) {
      const problem = `the data of tensor ${JSON.stringify(tensor.name)} starts at offset ${tensor.offset} of the data section, where llama.cpp expects ${expected} (right after the previous tensor's)`;
      throw invalid(file.path, `${problem}; the tensor infos are corrupt`);
    }
    expected += Math.ceil(tensor.byteSize / file.alignment) * file.alignment;
  }
}

function invalid(filePath: string, problem: string): ModelLoadError {
  return fromFormatError(filePath, new GgufFormatError(filePath, problem));
}

function fromFormatError(filePath: string, error: GgufFormatError): ModelLoadError {
  const at = error.offset === undefined ? "" : ` (at byte ${error.offset})`;
  return new ModelLoadError(filePath, `invalid GGUF file: ${error.problem}${at}`, { cause: error });
}
