// Where the shipped organism lives: `organism/` at the package root (beside `src/` and `dist/`).
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The directory of the shipped organism files. */
export function shippedOrganismDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../organism");
}

/** The shipped organism and its knowledge ablation. */
export function shippedOrganisms(): { organism: string; ablation: string } {
  const dir = shippedOrganismDir();
  return { organism: path.join(dir, "organism.gguf"), ablation: path.join(dir, "organism-no-ethics.gguf") };
}
