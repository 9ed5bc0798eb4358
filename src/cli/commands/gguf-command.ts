// `cai gguf inspect FILE`: what a GGUF file holds — metadata and tensors — without loading it.
import type { Command } from "commander";
import { plainValue } from "../../gguf/gguf-value.js";
import { GgufFile } from "../../gguf/reader.js";
import { runAction } from "../run-action.js";

/** Registers `cai gguf inspect`. */
export function registerGgufCommand(program: Command): void {
  program
    .command("gguf")
    .description("look inside GGUF files")
    .command("inspect")
    .description("print a GGUF file's metadata and tensors")
    .argument("<file>", "the .gguf file")
    .option("--tensors", "list every tensor", false)
    .action(
      runAction(async (file: string, flags: { tensors: boolean }) => {
        const gguf = await GgufFile.open(file);
        try {
          console.log(
            `${file}: GGUF v${gguf.version}, ${gguf.metadata.size} metadata keys, ${gguf.tensors.length} tensors`,
          );
          for (const [key, value] of gguf.metadata) {
            const plain = plainValue(value);
            const shown = Array.isArray(plain)
              ? `[${value.type === "array" ? value.itemType : ""} × ${plain.length}]`
              : JSON.stringify(typeof plain === "bigint" ? plain.toString() : plain);
            console.log(`  ${key} = ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}`);
          }
          const shown = flags.tensors ? gguf.tensors : gguf.tensors.slice(0, 8);
          for (const t of shown) console.log(`  tensor ${t.name} ${t.typeName} [${t.shape.join(", ")}]`);
          if (shown.length < gguf.tensors.length)
            console.log(`  … ${gguf.tensors.length - shown.length} more (--tensors lists all)`);
        } finally {
          await gguf.close();
        }
      }),
    );
}
