// Damaged GGUF files made from a good one, as users meet them (a cut download, a flipped count, a
// hand-edited key): the cases the `llama:` backend must refuse in a second, for tests and bench/.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { GgufFile } from "../reader.js";

/** The kinds of damage {@link writeCorruptModels} makes. */
export const corruptionKinds = [
  "truncated",
  "huge-string-length",
  "tensor-count-plus-one",
  "tensor-data-past-end",
  "missing-architecture",
  "not-gguf",
] as const;
export type CorruptionKind = (typeof corruptionKinds)[number];

/**
 * Writes one damaged copy of `good` per kind into `dir` (`<stem>-<kind>.gguf`) and returns their
 * paths. `huge-string-length` and `not-gguf` do not depend on `good`: the first is the issue's
 * 113-byte file, a header whose only string claims 2^62 bytes.
 */
export async function writeCorruptModels(
  good: string,
  dir: string,
  stem = path.basename(good, ".gguf"),
): Promise<Record<CorruptionKind, string>> {
  const bytes = await readFile(good);
  const file = await GgufFile.open(good);
  let lastInfoOffsetAt: number;
  try {
    lastInfoOffsetAt = tensorOffsetField(bytes, file);
  } finally {
    await file.close();
  }
  const made = {} as Record<CorruptionKind, string>;
  for (const kind of corruptionKinds) {
    const out = path.join(dir, `${stem}-${kind}.gguf`);
    await writeFile(out, damage(kind, bytes, lastInfoOffsetAt));
    made[kind] = out;
  }
  return made;
}

function damage(kind: CorruptionKind, good: Buffer, lastInfoOffsetAt: number): Buffer {
  const copy = Buffer.from(good);
  switch (kind) {
    case "truncated":
      return copy.subarray(0, Math.floor(copy.length * 0.6));
    case "huge-string-length":
      return hugeStringFile();
    case "tensor-count-plus-one":
      copy.writeBigUInt64LE(copy.readBigUInt64LE(8) + 1n, 8);
      return copy;
    case "tensor-data-past-end": {
      // The last tensor's offset (relative to the data section) moved one aligned step past the end.
      const offset = copy.readBigUInt64LE(lastInfoOffsetAt);
      copy.writeBigUInt64LE(offset + BigInt(alignUp(copy.length, 32)), lastInfoOffsetAt);
      return copy;
    }
    case "missing-architecture": {
      // Same length, so every offset stays right: the file is a well-formed GGUF without the key.
      const key = Buffer.from("general.architecture");
      const at = copy.indexOf(key);
      if (at < 0) throw new Error("the good model has no general.architecture key");
      copy.write("general.architectur_", at);
      return copy;
    }
    case "not-gguf":
      return Buffer.from("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n");
  }
}

/** GGUF v3, 0 tensors, 2 metadata entries; the second, a string, claims 2^62 bytes (113 bytes in all). */
function hugeStringFile(): Buffer {
  const str = (s: string) => [u64(BigInt(Buffer.byteLength(s))), Buffer.from(s)];
  const stringType = u32(8);
  return Buffer.concat([
    Buffer.from("GGUF"),
    u32(3),
    u64(0n),
    u64(2n),
    ...str("general.architecture"),
    stringType,
    ...str("llama"),
    ...str("general.name"),
    stringType,
    u64(2n ** 62n),
    Buffer.from("tiny-model.."),
  ]);
}

/** Byte position of the offset field of the file's last tensor info. */
function tensorOffsetField(bytes: Buffer, file: GgufFile): number {
  const last = file.tensors.at(-1);
  if (last === undefined) throw new Error(`${file.path} has no tensors`);
  const name = Buffer.concat([u64(BigInt(Buffer.byteLength(last.name))), Buffer.from(last.name)]);
  const at = bytes.lastIndexOf(name, file.dataOffset);
  if (at < 0) throw new Error(`cannot find the info of tensor ${last.name} in ${file.path}`);
  return at + name.length + 4 + last.shape.length * 8 + 4;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}
