import { writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { CaiError } from "../errors/cai-error.js";
import { InputFileError } from "../errors/input-file-error.js";
import { testFolder } from "../test-support/test-models.js";
import { maxTextEnvironmentVariable, readUserTextFile } from "./text-file.js";

const mib = 1024 * 1024;

/** A gzip bomb: `members` gzip members of 1 MiB of newlines each, about 1 KB apiece on disk. */
function gzipBomb(members: number): Buffer {
  const member = gzipSync(Buffer.alloc(mib, 0x0a), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => member));
}

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

  it("accepts lines up to the limit and names the first longer one", async () => {
    const dir = await testFolder();
    const fits = path.join(dir, "fits.txt");
    await writeFile(fits, "abcd\nab\n\nabcd");
    expect(await readUserTextFile(fits, { maxLineBytes: 4 })).toBe("abcd\nab\n\nabcd");
    const over = path.join(dir, "over.txt");
    await writeFile(over, "abcd\nab\n\nabcde\nx");
    await expect(readUserTextFile(over, { maxLineBytes: 4 })).rejects.toThrow(
      `${over}:4: line is 5 bytes long, over the limit of 4`,
    );
  });

  it("names the first bad byte of malformed UTF-8 by its line and column", async () => {
    const dir = await testFolder();
    const cases: Array<[string, number[], string]> = [
      ["truncated", [...Buffer.from("ok\n€"), 0xe2, 0x82, 0x78], "2:4: not UTF-8 text: invalid byte 0xe2"],
      ["surrogate", [...Buffer.from("a"), 0xed, 0xa0, 0x80], "1:2: not UTF-8 text: invalid byte 0xed"],
      [
        "too high",
        [...Buffer.from("😀\n"), 0xf4, 0x90, 0x80, 0x80],
        "2:1: not UTF-8 text: invalid byte 0xf4",
      ],
      ["overlong", [...Buffer.from("ab\ncd"), 0xc0, 0xaf], "2:3: not UTF-8 text: invalid byte 0xc0"],
      ["cut at the end", [...Buffer.from("x\n"), 0xf0, 0x9f, 0x98], "2:1: not UTF-8 text: invalid byte 0xf0"],
    ];
    for (const [name, bytes, message] of cases) {
      const file = path.join(dir, `${name}.txt`);
      await writeFile(file, Buffer.from(bytes));
      await expect(readUserTextFile(file)).rejects.toThrow(`${file}:${message}`);
    }
  });
});

describe("the size limit of a text file", () => {
  afterEach(() => {
    delete process.env[maxTextEnvironmentVariable];
  });

  it("stops gunzipping a gzip bomb at the limit, naming the file, the limit and how to raise it", async () => {
    const bomb = path.join(await testFolder(), "bomb.jsonl.gz");
    const bytes = gzipBomb(64);
    expect(bytes.length).toBeLessThan(mib / 4);
    await writeFile(bomb, bytes);
    const error = await readUserTextFile(bomb, { maxBytes: 8 * mib }).catch((e: unknown) => e);
    expect(InputFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `${bomb}: decompresses to more than the limit of 8 MiB for a text file (set CAI_MAX_TEXT_MIB to more MiB to raise it, up to 511)`,
    );
  });

  it("takes its default from CAI_MAX_TEXT_MIB, and refuses a nonsense value", async () => {
    const dir = await testFolder();
    const bomb = path.join(dir, "bomb.txt.gz");
    await writeFile(bomb, gzipBomb(6));
    process.env[maxTextEnvironmentVariable] = "4";
    await expect(readUserTextFile(bomb)).rejects.toThrow("more than the limit of 4 MiB");
    process.env[maxTextEnvironmentVariable] = "8";
    expect((await readUserTextFile(bomb)).length).toBe(6 * mib);
    process.env[maxTextEnvironmentVariable] = "lots";
    const error = await readUserTextFile(bomb).catch((e: unknown) => e);
    expect(CaiError.isInstance(error) && error.message).toBe(
      'CAI_MAX_TEXT_MIB must be a whole number of MiB, got "lots"',
    );
  });

  it("refuses a plain file over the limit before reading it, and names gzip that is not gzip", async () => {
    const dir = await testFolder();
    const big = path.join(dir, "big.txt");
    await writeFile(big, Buffer.alloc(2 * mib, 0x0a));
    await expect(readUserTextFile(big, { maxBytes: mib })).rejects.toThrow(
      `${big}: is 2 MiB, more than the limit of 1 MiB for a text file`,
    );
    const fake = path.join(dir, "fake.jsonl.gz");
    await writeFile(fake, "not gzip at all\n");
    await expect(readUserTextFile(fake)).rejects.toThrow(
      `${fake}: not valid gzip data (incorrect header check)`,
    );
  });
});
