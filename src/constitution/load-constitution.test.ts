import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { InputFileError } from "../errors/input-file-error.js";
import { testFolder } from "../test-support/test-models.js";
import {
  builtInConstitutionPath,
  constitutionHash,
  loadConstitution,
  loadDefaultConstitution,
  parseConstitution,
} from "./load-constitution.js";

const minimal = `name: tiny
version: "0.1.0"
principles:
  - id: harm
    critique: Point out anything harmful.
    revision: Rewrite it without the harm.
  - id: honesty
    critique: Point out anything untrue.
    revision: Rewrite it truthfully.
`;

/** Writes `text` (or bytes) into the test folder and returns the InputFileError loading it gives. */
async function loadError(name: string, text: string | Uint8Array): Promise<InputFileError> {
  const file = path.join(await testFolder(), name);
  await writeFile(file, text);
  const error = await loadConstitution(file).catch((e: unknown) => e);
  if (!InputFileError.isInstance(error))
    throw new Error(`expected an InputFileError for ${name}, got ${String(error)}`);
  return error;
}

describe("the built-in constitutions", () => {
  it("the default one loads and covers harm, honesty and non-evasiveness", async () => {
    const c = await loadDefaultConstitution();
    expect(c.name).toBe("cai-default");
    expect(c.principles.length).toBeGreaterThanOrEqual(16);
    expect(c.comparisons.length).toBeGreaterThanOrEqual(16);
    expect(c.examples.critique.length).toBeGreaterThanOrEqual(4);
    expect(c.examples.comparison.length).toBeGreaterThanOrEqual(2);
    const tags = new Set([...c.principles, ...c.comparisons].flatMap((p) => p.tags ?? []));
    for (const tag of [
      "violence",
      "self-harm",
      "crime",
      "abuse",
      "hate",
      "minors",
      "privacy",
      "cyber",
      "manipulation",
      "honesty",
      "non-evasive",
    ])
      expect(tags, tag).toContain(tag);
    // At least one example where the draft was already fine: the revision repeats it.
    expect(c.examples.critique.some((e) => e.revision === e.response)).toBe(true);
    expect(c.examples.critique.some((e) => Array.isArray(e.prompt))).toBe(true);
    expect(new Set(c.examples.comparison.map((e) => e.answer))).toEqual(new Set(["A", "B"]));
  });

  it("the customer-support one loads", async () => {
    const c = await loadConstitution(builtInConstitutionPath("customer-support"));
    expect(c.principles.map((p) => p.id)).toContain("protect-customer-data");
    expect(c.comparisons.length).toBeGreaterThan(0);
    expect(c.principles.find((p) => p.id === "no-unauthorised-promises")?.weight).toBe(2);
  });
});

describe("loading a constitution", () => {
  it("fills in defaults and reads JSON as well as YAML", async () => {
    const c = parseConstitution(minimal);
    expect(c.principles[0]).toEqual({
      id: "harm",
      critique: "Point out anything harmful.",
      revision: "Rewrite it without the harm.",
      weight: 1,
    });
    expect(c.comparisons).toEqual([]);
    expect(c.examples).toEqual({ critique: [], comparison: [] });
    const file = path.join(await testFolder(), "tiny.json");
    await writeFile(file, JSON.stringify(c, null, 2));
    expect(await loadConstitution(file)).toEqual(c);
  });

  it("hashes content, not formatting, key order or left-out defaults", () => {
    const c = parseConstitution(minimal);
    const reordered = parseConstitution(`# a comment
principles:
  - revision: Rewrite it without the harm.
    weight: 1
    critique: Point out anything harmful.
    id: harm
  - {id: honesty, critique: Point out anything untrue., revision: Rewrite it truthfully.}
version: "0.1.0"
name: tiny
`);
    expect(constitutionHash(reordered)).toBe(constitutionHash(c));
    expect(constitutionHash(c)).toMatch(/^[0-9a-f]{64}$/);
    const changed = parseConstitution(minimal.replace("truthfully", "honestly"));
    expect(constitutionHash(changed)).not.toBe(constitutionHash(c));
    const reweighted = parseConstitution(
      minimal.replace("  - id: honesty", "  - weight: 2\n    id: honesty"),
    );
    expect(constitutionHash(reweighted)).not.toBe(constitutionHash(c));
  });

  it("gives one clear error with file, line:column and field for each kind of mistake", async () => {
    const cases: Array<[string, string, RegExp]> = [
      ["syntax.yaml", `${minimal}  - id: [unclosed\n`, /syntax\.yaml:11:\d+: syntax error: /],
      [
        "missing.yaml",
        minimal.replace("    revision: Rewrite it truthfully.\n", ""),
        /missing\.yaml:7:5 \(principles\[1\]\.revision\): required field is missing$/,
      ],
      [
        "type.yaml",
        minimal.replace('version: "0.1.0"', "version: 1.5"),
        /type\.yaml:2:10 \(version\): expected a string, got the number 1\.5: put it in quotes$/,
      ],
      [
        "empty-list.yaml",
        'name: tiny\nversion: "1"\nprinciples: []\n',
        /empty-list\.yaml:3:13 \(principles\): a constitution needs at least one critique\/revision principle$/,
      ],
      [
        "duplicate.yaml",
        minimal.replace("id: honesty", "id: harm"),
        /duplicate\.yaml:7:9 \(principles\[1\]\.id\): duplicate id "harm" \(already used by principles\[0\]\)$/,
      ],
      [
        "unknown-key.yaml",
        minimal.replace("    critique: Point out anything untrue.", "    critic: Point out anything untrue."),
        /unknown-key\.yaml:8:5 \(principles\[1\]\.critic\): unknown field "critic" \(did you mean "critique"\?\)$/,
      ],
      [
        "bad-id.yaml",
        minimal.replace("id: honesty", "id: Honesty Check"),
        /bad-id\.yaml:7:9 \(principles\[1\]\.id\): must be kebab-case/,
      ],
      [
        "unknown-example-principle.yaml",
        `${minimal}examples:\n  critique:\n    - {prompt: Hi, response: Hello, principle: kindness, critique: Fine., revision: Hello}\n`,
        /:12:48 \(examples\.critique\[0\]\.principle\): no principle has the id "kindness"$/,
      ],
      [
        "bad-message.yaml",
        `${minimal}examples:\n  critique:\n    - prompt: [{role: bot, content: Hi}]\n      response: Hello\n      critique: Fine.\n      revision: Hello\n`,
        /:12:23 \(examples\.critique\[0\]\.prompt\[0\]\.role\): expected one of "system", "user", "assistant", got the string "bot"$/,
      ],
      [
        "template.yaml",
        `${minimal}templates:\n  critique: "Please {{critique}}"\n`,
        /template\.yaml:11:13 \(templates\.critique\): the critique template needs the placeholder \{\{critique_request\}\}$/,
      ],
      ["empty.yaml", "# nothing here\n", /empty\.yaml:1:1: the file is empty$/],
      ["list.json", "[1, 2]", /list\.json:1:1: expected a map of fields \(key: value\), got a list$/],
      [
        "syntax.json",
        '{"name": "x", "version": "1",\n  "principles": [}',
        /syntax\.json:2:\d+: not valid JSON: /,
      ],
      [
        "trailing-comma.json",
        '{"name": "x",\n  "principles": [1, 2,]}',
        /trailing-comma\.json:2:22: not valid JSON: trailing comma$/,
      ],
      ["comment.json", '{"name": "x" // the name\n}', /comment\.json:1:14: not valid JSON: comments are not/],
      [
        "alias.yaml",
        `${minimal}description: *nowhere\n`,
        /alias\.yaml:10:14: alias \*nowhere has no anchor &nowhere before it$/,
      ],
      // A "billion laughs" file: 9^10 strings if expanded; refused at the alias cap instead.
      [
        "bomb.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\nj: &j [*i, *i, *i, *i, *i, *i, *i, *i, *i]\n",
        /bomb\.yaml:2:\d+: too many aliases: /,
      ],
      [
        "unknown-top-level.yaml",
        `${minimal}rules: []\n`,
        /unknown-top-level\.yaml:10:1 \(rules\): unknown field "rules" \(expected one of: \$schema, name, version, description, principles, comparisons, examples, templates\)$/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const error = await loadError(name, text);
      expect(error.message, name).toMatch(message);
      expect(error.message.split("\n"), name).toHaveLength(1);
    }
  });

  it("reports the field and place of a JSON file's mistakes too", async () => {
    const json = JSON.stringify(
      { name: "x", version: "1", principles: [{ id: "a", critique: "c", revision: 3 }] },
      null,
      2,
    );
    const error = await loadError("wrong-type.json", json);
    expect(error.field).toBe("principles[0].revision");
    expect([error.line, error.column]).toEqual([8, 19]);
    expect(error.message).toMatch(/expected a string, got the number 3: put it in quotes$/);
  });

  it("rejects files that are not UTF-8, have absurd lines, or are of another type", async () => {
    const notUtf8 = await loadError(
      "latin1.yaml",
      Buffer.concat([Buffer.from("name: caf"), Buffer.from([0xe9, 0x0a])]),
    );
    expect(notUtf8.message).toMatch(/latin1\.yaml:1:10: not UTF-8 text: invalid byte 0xe9$/);
    const long = await loadError("long.yaml", `${minimal}description: "${"x".repeat(10 * 1024 * 1024)}"\n`);
    expect(long.message).toMatch(/long\.yaml:10: line is \d+ bytes long, over the limit/);
    expect((await loadError("rules.txt", minimal)).message).toMatch(
      /cannot read "\.txt" files: use \.yaml, \.yml, \.json$/,
    );
    const missing = path.join(await testFolder(), "no-such-file.yaml");
    await expect(loadConstitution(missing)).rejects.toThrow(`${missing}: no such file`);
  });
});
