// The README's command blocks run as pasted. Every ```bash block preceded by `<!-- runnable -->` is run,
// in order, by bash with -e and pipefail, in a copy of the project's files (what a fresh clone holds, with
// this checkout's node_modules linked in) and a cache directory of its own; each must exit 0. Blocks
// that need what a fresh machine lacks (a real model, an API key, minutes of benchmarks) are not marked.
import { execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const marker = "<!-- runnable -->";

/** The runnable blocks of a README, with the line each starts on. */
function runnableBlocks(markdown: string): Array<{ line: number; script: string }> {
  const lines = markdown.split("\n");
  const blocks: Array<{ line: number; script: string }> = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i]?.trim() !== marker) continue;
    const fence = lines[i + 1]?.trim();
    if (fence !== "```bash")
      throw new Error(`README.md:${i + 1}: ${marker} must be followed by a \`\`\`bash block`);
    const end = lines.findIndex((l, j) => j > i + 1 && l.trim() === "```");
    if (end < 0) throw new Error(`README.md:${i + 2}: the block never ends`);
    blocks.push({ line: i + 3, script: lines.slice(i + 2, end).join("\n") });
    i = end;
  }
  return blocks;
}

let clone: string;
let blocks: Array<{ line: number; script: string }>;

beforeAll(async () => {
  blocks = runnableBlocks(await readFile(path.join(root, "README.md"), "utf8"));
  clone = await mkdtemp(path.join(os.tmpdir(), "cai-readme-"));
  // What `git clone` would give: tracked files, and new ones not ignored (this checkout's own changes).
  const { stdout } = await promisify(execFile)("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of stdout.split("\0").filter(Boolean)) {
    await mkdir(path.dirname(path.join(clone, file)), { recursive: true });
    await cp(path.join(root, file), path.join(clone, file)).catch((error: NodeJS.ErrnoException) => {
      // A file deleted in the working tree but still tracked: a fresh clone of this change lacks it too.
      if (error.code !== "ENOENT") throw error;
    });
  }
  await symlink(path.join(root, "node_modules"), path.join(clone, "node_modules"));
}, 120_000);

/** Runs a block; resolves with its exit code and output. */
function runBlock(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", script], {
      cwd: clone,
      env: { ...process.env, CAI_CACHE_DIR: path.join(clone, ".cache"), CAI_DEBUG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("README.md", () => {
  it("marks its runnable command blocks", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it("installs under a name that is cai's own: never `npx cai`, which runs the unrelated npm package", async () => {
    const manifest = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as {
      name: string;
      bin: Record<string, string>;
    };
    expect(manifest.name).toBe("constitutional-ai");
    expect(Object.keys(manifest.bin)).toEqual(["cai"]);
    const readme = await readFile(path.join(root, "README.md"), "utf8");
    expect(readme).not.toMatch(/^\s*npx (--yes |-y )?cai\b/m); // as a command; the text may warn of it
    expect(readme).toContain("npx -p constitutional-ai cai");
    expect(readme).not.toMatch(/from "cai"/);
  });

  it("runs every runnable block as pasted, in order", async () => {
    for (const block of blocks) {
      const { code, output } = await runBlock(block.script);
      // On failure the message shows which block and what it printed.
      expect({ line: block.line, code, tail: code === 0 ? "" : output.slice(-3000) }).toEqual({
        line: block.line,
        code: 0,
        tail: "",
      });
    }
  }, 900_000);
});
