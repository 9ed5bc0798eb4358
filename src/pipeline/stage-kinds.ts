// The kinds of stage a pipeline can run, each one of cai's own commands: a stage's settings are that
// command's flags (the same names, `max-new-tokens: 48` for `--max-new-tokens 48`) and its positional
// arguments (`run-dir` of `cai export`), read from the command's own definition, so a setting the command
// does not have is an error and a value is checked by the command's own parser. `--out` is the runner's.
import { type Argument, Command, type Option } from "commander";
import { collectFlag } from "../cli/run-action.js";

/** A kind's command and what later stages may refer to as `${stages.ID.OUTPUT}`. */
interface StageKind {
  /** The command's words after `cai`. */
  readonly command: readonly string[];
  readonly register: () => Promise<(program: Command) => void>;
  /** Its outputs, by name: what the stage writes that another stage can take. */
  readonly outputs: Readonly<Record<string, string>>;
}

const train = async () => (await import("../cli/commands/train-command.js")).registerTrainCommand;

/** Every stage kind. */
export const stageKinds = {
  revise: {
    command: ["revise"],
    register: async () => (await import("../cli/commands/revise-command.js")).registerReviseCommand,
    outputs: { run: "the run directory (what `export` reads)" },
  },
  export: {
    command: ["export"],
    register: async () => (await import("../cli/commands/export-command.js")).registerExportCommand,
    outputs: {
      sft: "the SFT rows of the train split",
      preference: "the preference rows (revision ≻ draft) of the train split",
      dir: "the folder of every exported file",
    },
  },
  sft: {
    command: ["train", "sft"],
    register: train,
    outputs: { adapter: "the final LoRA adapter (GGUF)", model: "the merged model (GGUF, with merge: true)" },
  },
  dpo: { command: ["train", "dpo"], register: train, outputs: { adapter: "the final LoRA adapter (GGUF)" } },
  rm: { command: ["train", "rm"], register: train, outputs: { reward: "the preference model (reward:DIR)" } },
  rl: { command: ["train", "rl"], register: train, outputs: { adapter: "the final policy adapter (GGUF)" } },
  respond: {
    command: ["respond"],
    register: async () => (await import("../cli/commands/respond-command.js")).registerRespondCommand,
    outputs: { responses: "responses.jsonl" },
  },
  label: {
    command: ["label"],
    register: async () => (await import("../cli/commands/label-command.js")).registerLabelCommand,
    outputs: { preferences: "preferences.jsonl" },
  },
  eval: {
    command: ["eval"],
    register: async () => (await import("../cli/commands/eval-command.js")).registerEvalCommand,
    outputs: { report: "the report's folder" },
  },
} as const satisfies Record<string, StageKind>;

/** A stage kind's name. */
export type StageKindName = keyof typeof stageKinds;

/** The kinds' names, in the order above. */
export const stageKindNames = Object.keys(stageKinds) as StageKindName[];

/** One setting of a kind: a flag or a positional argument of its command. */
export interface StageSetting {
  /** As written in a pipeline: the flag without its dashes, or the argument's name. */
  readonly name: string;
  /** `flag`: true or false; `value`: one value; `list`: one or more (a repeatable flag). */
  readonly type: "flag" | "value" | "list";
  readonly required: boolean;
  readonly description: string;
  /** The command's parser of one value, which throws on a bad one. */
  readonly parse?: (value: string, previous: unknown) => unknown;
  /** Where it goes on the command line: `--name` for flags, or the argument's position. */
  readonly position?: number;
}

/** Settings the runner gives every stage itself. */
const runnerSettings = new Set(["out"]);

const settingsCache = new Map<StageKindName, Promise<readonly StageSetting[]>>();

/** The settings of `kind`, read from its command's definition. */
export function stageSettings(kind: StageKindName): Promise<readonly StageSetting[]> {
  let settings = settingsCache.get(kind);
  if (!settings) {
    settings = readSettings(kind);
    settingsCache.set(kind, settings);
  }
  return settings;
}

async function readSettings(kind: StageKindName): Promise<readonly StageSetting[]> {
  const spec = stageKinds[kind];
  const program = new Command();
  (await spec.register())(program);
  let command: Command | undefined = program;
  for (const word of spec.command) command = command?.commands.find((c) => c.name() === word);
  if (!command) throw new RangeError(`cai has no command ${spec.command.join(" ")}`);
  const options = (command.options as readonly Option[])
    .filter((o) => o.long !== undefined && !runnerSettings.has(o.long.slice(2)))
    .map((o): StageSetting => {
      const takesValue = o.required || o.optional;
      return {
        name: (o.long as string).slice(2),
        type: !takesValue
          ? "flag"
          : o.parseArg === collectFlag || Array.isArray(o.defaultValue) || o.variadic
            ? "list"
            : "value",
        required: o.mandatory,
        description: o.description,
        ...(o.parseArg ? { parse: o.parseArg as (value: string, previous: unknown) => unknown } : {}),
      };
    });
  const positional = (command.registeredArguments as readonly Argument[]).map(
    (a, position): StageSetting => ({
      name: a.name(),
      type: a.variadic ? "list" : "value",
      required: a.required,
      description: a.description,
      position,
    }),
  );
  return [...positional, ...options];
}
