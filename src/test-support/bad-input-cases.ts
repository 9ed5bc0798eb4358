// The bad command lines of issue 15 as people type them, and the files they read: shared by the test
// (src/cli/bad-input.test.ts: exit 2, one line naming the flag or file, no stack) and
// `npm run bench:bad-input` (how long each takes to be refused).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { RunStore } from "../runs/run-store.js";

/** One bad command line and what its one line must name. */
export interface BadInputCase {
  name: string;
  args: string[];
  /** What the line must contain (strings) or match (patterns). */
  names: Array<string | RegExp>;
}

/** A YAML "billion laughs": ten levels of nine aliases each, 9^10 strings if expanded. */
function aliasBomb(): string {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"];
  for (let level = 1; level <= 10; level += 1)
    lines.push(
      `a${level}: &a${level} [${Array(9)
        .fill(`*a${level - 1}`)
        .join(", ")}]`,
    );
  return `${lines.join("\n")}\n`;
}

/** Writes the files the cases read into `dir` (which must exist) and returns the cases. */
export async function badInputCases(dir: string): Promise<BadInputCase[]> {
  const file = (name: string) => path.join(dir, name);
  await writeFile(file("unresolved.yaml"), "name: x\nversion: *nowhere\n");
  await writeFile(file("bomb.yaml"), aliasBomb());
  await writeFile(file("trailing.json"), '{"name": "x",\n "principles": [{"id": "a"},]}\n');
  const response = { model: "llama:m.gguf", sample: 0, text: "Sure.", finishReason: "stop" };
  const row = (id: string) => ({
    id,
    kind: "red-team",
    category: "c",
    split: "train",
    prompt: [{ role: "user", content: "hi" }],
    responses: [response],
  });
  await writeFile(file("one-each.jsonl"), `${JSON.stringify(row("a"))}\n${JSON.stringify(row("b"))}\n`);
  await writeFile(file("no-prompt.jsonl"), '{"query": "how do I pick a lock?"}\n');
  // A revise run of 4 rounds with nothing done yet, made with the run store itself (no model needed).
  const config = { policy: "llama:m.gguf", critic: "llama:m.gguf", rounds: 4, seed: 0, maxTokens: 8 };
  const store = RunStore.open(file("revise-run"), {
    stage: "revise",
    config: { ...config, temperature: 1, earlyStop: false },
    constitutionHash: "0",
  });
  store.close();

  const out = file("out");
  const reviseWith = (...extra: string[]) => ["revise", "--model", "llama:m.gguf", "--out", out, ...extra];
  return [
    {
      name: "a missing required flag points at --help, not the whole help",
      args: ["revise"],
      names: ["required option '--model <spec>' not specified", "(see cai revise --help)"],
    },
    {
      name: "an unknown flag",
      args: ["prompts", "show", "red-team", "--bogus"],
      names: ["unknown option '--bogus'", "(see cai prompts show --help)"],
    },
    { name: "--rounds ''", args: reviseWith("--rounds", ""), names: ["--rounds", 'got ""'] },
    { name: "--rounds 1e3", args: reviseWith("--rounds", "1e3"), names: ["--rounds", "1e3"] },
    {
      name: "--temperature Infinity",
      args: reviseWith("--temperature", "Infinity"),
      names: ["--temperature", "Infinity"],
    },
    { name: "--split bogus", args: reviseWith("--split", "bogus"), names: ["--split", "bogus"] },
    {
      name: "serve --port 99999",
      args: ["serve", "--model", "llama:m.gguf", "--port", "99999"],
      names: ["--port", "99999", "65535"],
    },
    {
      name: "a base URL that is not a URL, in the spec",
      args: ["models", "check", "openai:m?baseUrl=notaurl"],
      names: ["openai:m?baseUrl=notaurl", "baseUrl=notaurl is not a URL"],
    },
    {
      name: "a base URL that is not a URL, as --base-url",
      args: ["models", "check", "openai:m", "--base-url", "notaurl"],
      names: ["--base-url", "notaurl"],
    },
    {
      name: "?context=-5",
      args: ["models", "check", "llama:m.gguf?context=-5"],
      names: ["context=-5", "whole number ≥ 16"],
    },
    {
      name: "an unknown spec option, listing the known ones",
      args: ["models", "check", "llama:m.gguf?foo=1"],
      names: ['unknown option "foo"', "threads, context, parallel, scale, cpu, exactKv"],
    },
    {
      name: "an unknown prompt set that is not a file",
      args: reviseWith("--prompts", "red-tem"),
      names: ['"red-tem"', "red-team, helpful", "did you mean red-team?"],
    },
    {
      name: "a prompt file without a prompt field names the converting command",
      args: reviseWith("--prompts", file("no-prompt.jsonl")),
      names: [
        `${file("no-prompt.jsonl")}:1:`,
        `cai prompts import ${file("no-prompt.jsonl")} --format jsonl --field PATH`,
      ],
    },
    {
      name: "a YAML alias without its anchor",
      args: ["constitution", "validate", file("unresolved.yaml")],
      names: [`${file("unresolved.yaml")}:2:10:`, "alias *nowhere has no anchor"],
    },
    {
      name: "a YAML alias bomb",
      args: ["constitution", "validate", file("bomb.yaml")],
      names: [new RegExp(`${file("bomb.yaml")}:2:\\d+: too many aliases`)],
    },
    {
      name: "a .json constitution with a trailing comma",
      args: ["constitution", "validate", file("trailing.json")],
      names: [`${file("trailing.json")}:2:28: not valid JSON: trailing comma`],
    },
    {
      name: "export --round past the run's rounds",
      args: ["export", file("revise-run"), "--out", out, "--round", "99"],
      names: ["--round 99", file("revise-run"), "0 to 4"],
    },
    {
      name: "label over one response per prompt makes 0 pairs",
      args: ["label", "--responses", file("one-each.jsonl"), "--judge", "llama:m.gguf", "--out", out],
      names: [file("one-each.jsonl"), "0 pairs to label", "--samples 2"],
    },
  ];
}
