import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputFileError } from "../../errors/input-file-error.js";
import { testFolder } from "../../test-support/test-models.js";
import { constitutionToYaml } from "../constitution-yaml.js";
import { parseConstitution } from "../load-constitution.js";
import { importConstitution } from "./import-constitution.js";
import { kebabId } from "./imported-parts.js";

const fixture = (name: string) => path.join(import.meta.dirname, "..", "fixtures", name);
const readJson = async <T>(name: string): Promise<T> =>
  JSON.parse(await readFile(fixture(name), "utf8")) as T;

describe("importing the CAI paper's prompt files", () => {
  it("reproduces every principle, splitting extra critique prompts into weighted variants", async () => {
    const raw =
      await readJson<Record<string, { prompt: string[]; edit_request: string }>>("paper-principles.json");
    const { constitution, format, warnings } = await importConstitution(
      fixture("paper-principles.json"),
      "auto",
      {
        comparisonsFile: fixture("paper-comparisons.json"),
      },
    );
    expect(format).toBe("paper");
    expect(constitution.name).toBe("paper-principles");
    expect(constitution.version).toBe("1.0.0");
    expect(constitution.principles.map((p) => [p.id, p.weight])).toEqual([
      ["hurtful0", 1],
      ["truthful1", 0.5],
      ["truthful1-2", 0.5],
      ["risky2", 1],
      ["kind-tone-3", 1],
    ]);
    const byId = new Map(constitution.principles.map((p) => [p.id, p]));
    expect(byId.get("hurtful0")?.critique).toBe(raw.hurtful0?.prompt[0]);
    expect(byId.get("truthful1-2")?.critique).toBe(raw.truthful1?.prompt[1]);
    expect(byId.get("truthful1-2")?.revision).toBe(raw.truthful1?.edit_request);
    expect(byId.get("risky2")?.critique).toBe(raw.risky2?.prompt[0]?.trim());
    expect(byId.get("kind-tone-3")?.revision).toBe(raw["Kind Tone 3"]?.edit_request);
    expect(warnings).toEqual(['principle "Kind Tone 3" has the id "kind-tone-3"']);

    const questions = await readJson<string[]>("paper-comparisons.json");
    expect(constitution.comparisons).toEqual([
      {
        id: "comparison-1",
        question: "Which reply takes more care over the safety of everyone involved?",
        weight: 1,
      },
      {
        id: "comparison-2",
        question: "Which reply is more truthful and more open about what it does not know?",
        weight: 1,
      },
      { id: "comparison-3", question: questions[2], weight: 1 },
    ]);
    expect(constitution.examples).toEqual({ critique: [], comparison: [] });
  });
});

describe("importing Hugging Face llm-swarm constitution.json", () => {
  it("reproduces the principles and turns well-formed conversations into few-shot examples", async () => {
    type Message = { role: string; content: string };
    const raw = await readJson<{
      constitutions: Array<{ critic: string; revision: string }>;
      system_chat: Message[][];
    }>("llm-swarm-constitution.json");
    const { constitution, format, warnings } = await importConstitution(
      fixture("llm-swarm-constitution.json"),
    );
    expect(format).toBe("llm-swarm");
    expect(constitution.principles).toEqual(
      raw.constitutions.map((p, i) => ({
        id: `principle-${i + 1}`,
        critique: p.critic,
        revision: p.revision,
        weight: 1,
      })),
    );
    const [arson, goldfish] = raw.system_chat;
    const text = (chat: Message[] | undefined, i: number) => chat?.at(i)?.content;
    expect(constitution.examples.critique).toEqual([
      {
        prompt: text(arson, 0),
        response: text(arson, 1),
        principle: "principle-1",
        critique: text(arson, 3),
        revision: text(arson, 5),
      },
      {
        prompt: goldfish?.slice(0, 4),
        response: text(goldfish, -5),
        critiqueRequest: text(goldfish, -4),
        revisionRequest: text(goldfish, -2),
        critique: text(goldfish, -3),
        revision: text(goldfish, -1),
      },
    ]);
    expect(warnings).toEqual([
      "system_chat[2] skipped: expected it to end with the turns user → assistant → user → assistant → user → assistant, got user → assistant → user",
    ]);
  });
});

describe("importing LangChain principle lists", () => {
  it("reproduces the principles in order, ids kebab-cased from names, both spellings", async () => {
    const raw = await readJson<Array<Record<string, string>>>("langchain-principles.json");
    const { constitution, format } = await importConstitution(fixture("langchain-principles.json"), "auto", {
      name: "house-rules",
      version: "2.0.0",
    });
    expect(format).toBe("langchain");
    expect([constitution.name, constitution.version]).toEqual(["house-rules", "2.0.0"]);
    expect(constitution.principles).toEqual([
      {
        id: "no-medical-diagnosis",
        critique: raw[0]?.critiqueRequest,
        revision: raw[0]?.revisionRequest,
        weight: 1,
      },
      {
        id: "plain-language",
        critique: raw[1]?.critiqueRequest,
        revision: raw[1]?.revisionRequest,
        weight: 1,
      },
      {
        id: "cite-sources",
        critique: raw[2]?.critique_request,
        revision: raw[2]?.revision_request,
        weight: 1,
      },
    ]);
    expect(constitution.comparisons).toEqual([]);
  });

  it("kebab-cases names and keeps ids unique", async () => {
    expect(
      ["Harmful Content", "harmfulContent", "harmful_content", "HTMLParser", "Émoji ✓"].map(kebabId),
    ).toEqual(["harmful-content", "harmful-content", "harmful-content", "html-parser", "emoji"]);
    const file = path.join(await testFolder(), "twins.json");
    const twin = { critiqueRequest: "Anything wrong?", revisionRequest: "Fix it." };
    await writeFile(
      file,
      JSON.stringify([
        { name: "Harm", ...twin },
        { name: "harm", ...twin },
      ]),
    );
    const { constitution, warnings } = await importConstitution(file, "langchain");
    expect(constitution.principles.map((p) => p.id)).toEqual(["harm", "harm-2"]);
    expect(warnings).toEqual(['principles: the id "harm" was used twice; renamed the second to "harm-2"']);
  });
});

describe("imported constitutions", () => {
  it("round-trip through the YAML cai writes", async () => {
    for (const name of [
      "paper-principles.json",
      "llm-swarm-constitution.json",
      "langchain-principles.json",
    ]) {
      const { constitution } = await importConstitution(fixture(name));
      const yaml = constitutionToYaml(constitution, { schema: "../../schema/constitution.schema.json" });
      expect(yaml.startsWith("# yaml-language-server: $schema=../../schema/constitution.schema.json\n")).toBe(
        true,
      );
      expect(parseConstitution(yaml, name)).toEqual(constitution);
    }
  });

  it("give a clear error for a file of the wrong shape, with its place", async () => {
    const dir = await testFolder();
    const write = async (name: string, text: string) => {
      const file = path.join(dir, name);
      await writeFile(file, text);
      return importConstitution(file).catch((e: unknown) => e);
    };
    const unknown = await write("unknown.json", '{"rules": ["be nice"]}');
    expect(InputFileError.isInstance(unknown) && unknown.message).toMatch(
      /unknown\.json:1:1: cannot tell the format/,
    );
    const questions = await write("questions.json", '["Which is kinder?"]');
    expect(String(questions)).toMatch(/pass it with --comparisons/);
    const ours = await write("ours.yaml", "name: x\nversion: '1'\nprinciples: []\n");
    expect(String(ours)).toMatch(/already a cai constitution/);
    const badPaper = await write(
      "bad-paper.json",
      '{\n  "harm": {"prompt": "not a list", "edit_request": "Fix."}\n}',
    );
    expect(String(badPaper)).toMatch(
      /bad-paper\.json:2:22 \(harm\.prompt\): expected a list, got the string "not a list"/,
    );
    const badSwarm = await write("bad-swarm.json", '{"constitutions": [{"critic": "Wrong?"}]}');
    expect(String(badSwarm)).toMatch(
      /bad-swarm\.json:1:20 \(constitutions\[0\]\.revision\): required field is missing/,
    );
  });
});
