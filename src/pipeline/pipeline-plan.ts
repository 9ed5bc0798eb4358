// A pipeline file made into a plan before anything runs: the file validated (kinds, settings, types), each
// `for_each` stage expanded into one stage per value, every value checked by its command's parser, and
// every `${…}` reference resolved to a model, a prompt set, the seed, the constitution, a matrix value
// or an earlier stage's output. Any problem is one InputFileError with the file, line:column and field.
import type { InputFileError } from "../errors/input-file-error.js";
import {
  errorAt,
  readStructuredFile,
  type StructuredFile,
  validateStructured,
} from "../io/structured-file.js";
import { type PipelineFile, pipelineSchema } from "./pipeline-schema.js";
import { type StageKindName, stageKinds, stageSettings } from "./stage-kinds.js";

/** A reference inside a setting's value. */
export type Reference =
  | { readonly to: "stage"; readonly stage: string; readonly output: string }
  | { readonly to: "model" | "prompts" | "each"; readonly name: string }
  | { readonly to: "seed" | "constitution" };

/** One value of a setting: literal text with references in it (resolved when the stage runs). */
export interface SettingValue {
  /** The text as written (numbers and booleans as given). */
  readonly raw: string | number | boolean;
  readonly references: readonly Reference[];
}

/** One stage to run (a `for_each` stage gives one per value). */
export interface PlannedStage {
  /** `ID`, or `ID-VALUE` for one value of a `for_each` stage. */
  readonly id: string;
  /** The stage in the file it comes from. */
  readonly source: string;
  readonly kind: StageKindName;
  /** This stage's values of the `for_each` variables. */
  readonly each: Readonly<Record<string, string | number | boolean>>;
  /** Settings by name; a list setting has one value per item. */
  readonly settings: Readonly<Record<string, readonly SettingValue[]>>;
  /** The stages whose outputs it takes, in the order first named. */
  readonly dependsOn: readonly string[];
}

/** A validated pipeline: its top-level values and its stages in the order they run. */
export interface PipelinePlan {
  readonly file: string;
  readonly config: Omit<PipelineFile, "stages">;
  readonly stages: readonly PlannedStage[];
}

const referencePattern = /\$\{([^}]*)\}/g;

/** Reads, validates and plans the pipeline in `file`. */
export async function loadPipeline(file: string): Promise<PipelinePlan> {
  return planPipeline(await readStructuredFile(file));
}

/** Validates and plans a parsed pipeline file. */
export async function planPipeline(source: StructuredFile): Promise<PipelinePlan> {
  const config = validateStructured(source, await pipelineSchema());
  const { stages: stageEntries, ...top } = config;
  const order = Object.keys(stageEntries);
  /** The planned ids of each file stage (one, or one per `for_each` value). */
  const instancesOf = new Map<string, string[]>();
  const planned: PlannedStage[] = [];
  for (const [index, id] of order.entries()) {
    const entry = stageEntries[id] as Record<string, unknown> & { kind: StageKindName };
    const settings = await stageSettings(entry.kind);
    const forEach = (entry.for_each ?? {}) as Record<string, Array<string | number | boolean>>;
    for (const setting of settings)
      if (setting.required && entry[setting.name] === undefined)
        throw errorAt(
          source,
          ["stages", id],
          `${setting.name} is required: ${setting.description} (cai ${stageKinds[entry.kind].command.join(" ")} ${setting.position === undefined ? `--${setting.name}` : `<${setting.name}>`})`,
        );
    const combinations = Object.entries(forEach).reduce<Array<Record<string, string | number | boolean>>>(
      (all, [name, values]) => all.flatMap((c) => values.map((v) => ({ ...c, [name]: v }))),
      [{}],
    );
    const ids: string[] = [];
    for (const each of combinations) {
      const values = Object.values(each);
      const instance = values.length === 0 ? id : `${id}-${values.join("-")}`;
      ids.push(instance);
      const dependsOn: string[] = [];
      const resolved: Record<string, SettingValue[]> = {};
      for (const setting of settings) {
        const given = entry[setting.name];
        if (given === undefined) continue;
        const items = Array.isArray(given) ? given : [given];
        resolved[setting.name] = items.map((raw, i) => {
          const field = ["stages", id, setting.name, ...(Array.isArray(given) ? [i] : [])];
          const references = referencesIn(source, field, raw as string | number | boolean, {
            config,
            order,
            index,
            id,
            each,
            instancesOf,
          });
          for (const r of references)
            if (r.to === "stage" && setting.type !== "list" && (instancesOf.get(r.stage)?.length ?? 1) > 1)
              throw errorAt(
                source,
                field,
                `\${stages.${r.stage}.${r.output}}: ${setting.name} takes one value, and ${r.stage} runs once per value of its for_each; name one (${instancesOf.get(r.stage)?.join(", ")})`,
              );
          for (const r of references)
            if (r.to === "stage")
              for (const dependency of instancesOf.get(r.stage) ?? [r.stage])
                if (!dependsOn.includes(dependency)) dependsOn.push(dependency);
          if (references.length === 0 && setting.parse) checkValue(source, field, setting.parse, raw);
          return { raw: raw as string | number | boolean, references };
        });
      }
      planned.push({ id: instance, source: id, kind: entry.kind, each, settings: resolved, dependsOn });
    }
    instancesOf.set(id, ids);
  }
  return { file: source.file, config: top, stages: planned };
}

/** Runs the command's own parser over a literal value; its complaint is the error. */
function checkValue(
  source: StructuredFile,
  field: readonly PropertyKey[],
  parse: (value: string, previous: unknown) => unknown,
  raw: unknown,
): void {
  try {
    parse(String(raw), undefined);
  } catch (error) {
    throw errorAt(source, field, error instanceof Error ? error.message : String(error));
  }
}

interface ReferenceScope {
  readonly config: PipelineFile;
  readonly order: readonly string[];
  /** The referring stage's place in the file, and its id. */
  readonly index: number;
  readonly id: string;
  readonly each: Readonly<Record<string, unknown>>;
  readonly instancesOf: ReadonlyMap<string, readonly string[]>;
}

/** The references in one value, each checked against what exists before the stage. */
function referencesIn(
  source: StructuredFile,
  field: readonly PropertyKey[],
  raw: string | number | boolean,
  scope: ReferenceScope,
): Reference[] {
  if (typeof raw !== "string") return [];
  const fail = (problem: string): InputFileError => errorAt(source, field, problem);
  const names = (record: Record<string, unknown>) => Object.keys(record).join(", ") || "none";
  return [...raw.matchAll(referencePattern)].map(([whole, inner = ""]): Reference => {
    const [root, name, output, ...rest] = inner.trim().split(".");
    if (rest.length > 0) throw fail(`${whole}: too many parts`);
    if ((root === "seed" || root === "constitution") && name === undefined) {
      if (root === "constitution" && scope.config.constitution === undefined)
        throw fail(`${whole}: the pipeline names no constitution (add constitution: FILE at the top)`);
      return { to: root };
    }
    if (root === "models" || root === "prompts" || root === "each") {
      const known =
        root === "models" ? scope.config.models : root === "prompts" ? scope.config.prompts : scope.each;
      if (name === undefined || output !== undefined || !Object.hasOwn(known, name))
        throw fail(
          `${whole}: no ${root === "each" ? "for_each variable" : root === "models" ? "model" : "prompt set"} ${name ?? "named"} (${root === "each" ? "this stage's variables" : root}: ${names(known)})`,
        );
      return { to: root === "models" ? "model" : root, name };
    }
    if (root === "stages") {
      if (name === undefined || output === undefined) throw fail(`${whole}: write \${stages.ID.OUTPUT}`);
      // A stage of the file, or one value of an earlier `for_each` stage (`sl_cai-4`).
      const fileStage =
        [...scope.instancesOf].find(([, ids]) => ids.length > 1 && ids.includes(name))?.[0] ?? name;
      const at = scope.order.indexOf(fileStage);
      if (fileStage === scope.id) throw fail(`${whole}: a stage cannot take its own output (a cycle)`);
      if (at < 0) throw fail(`${whole}: no stage ${name} (stages: ${scope.order.join(", ")})`);
      if (at > scope.index)
        throw fail(`${whole}: stage ${name} comes later; stages run in the order of the file`);
      const kind = (scope.config.stages[fileStage] as { kind: StageKindName }).kind;
      const outputs = stageKinds[kind].outputs as Record<string, string>;
      if (!Object.hasOwn(outputs, output))
        throw fail(`${whole}: ${kind} stages have no output ${output} (outputs: ${names(outputs)})`);
      return { to: "stage", stage: name, output };
    }
    throw fail(
      `${whole}: unknown reference (use stages.ID.OUTPUT, models.NAME, prompts.NAME, each.NAME, seed or constitution)`,
    );
  });
}
