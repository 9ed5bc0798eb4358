import { writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputFileError } from "../errors/input-file-error.js";
import { testFolder } from "../test-support/test-models.js";
import { readUserTextFile } from "./text-file.js";

describe("reading a user's text file", () => {
  it("reads UTF-8 text, and gzipped text", async () => {
    const dir = await testFolder();
    await writeFile(path.join(dir, "ok.txt"), "héllo\n你好\n");
    await writeFile(path.join(dir, "ok.txt.gz"), gzipSync("héllo"));
    expect(await readUserTextFile(path.join(dir, "ok.txt"))).toBe("héllo\n你好\n");
    expect(await readUserTextFile(path.join(dir, "ok.txt.gz"))).toBe("héllo");
  });

  it("names the file and place of what is wrong", async () => {
    const dir = await testFolder();
    const bad = path.join(dir, "bad.txt");
    await writeFile(
      bad,
      Buffer.concat([Buffer.from("line one\nab"), Buffer.from([0xff, 0x41]), Buffer.from("\n")]),
    );
    await expect(readUserTextFile(bad)).rejects.toThrow(`${bad}:2:3: not UTF-8 text: invalid byte 0xff`);
    const long = path.join(dir, "long.txt");
    await writeFile(long, `short\n${"x".repeat(10 * 1024 * 1024)}\n`);
    await expect(readUserTextFile(long)).rejects.toThrow(/long\.txt:2: line is 10485760 bytes long/);
    const missing = path.join(dir, "missing.txt");
    const error = await readUserTextFile(missing).catch((e: unknown) => e);
    expect(InputFileError.isInstance(error) && error.message).toBe(`${missing}: no such file`);
  });
});
