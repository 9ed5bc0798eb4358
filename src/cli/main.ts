#!/usr/bin/env node
// The `cai` command line: each command lives in its own file under commands/ and only parses flags
// before calling the library. Only the command being run is imported (the others pull in llama.cpp,
// TensorFlow.js or the organism), so a mistyped flag is answered at once.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { reportUsageErrorsOnOneLine, usageExitCode } from "./one-line-usage.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

type Register = (program: Command) => void;

/** Each command's registration, loaded on demand; in the order `cai --help` lists them. */
const commands: Record<string, () => Promise<Register>> = {
  demo: async () => (await import("./commands/demo-command.js")).registerDemoCommand,
  revise: async () => (await import("./commands/revise-command.js")).registerReviseCommand,
  respond: async () => (await import("./commands/respond-command.js")).registerRespondCommand,
  label: async () => (await import("./commands/label-command.js")).registerLabelCommand,
  eval: async () => (await import("./commands/eval-command.js")).registerEvalCommand,
  judge: async () => (await import("./commands/eval-command.js")).registerJudgeCommand,
  constitution: async () => (await import("./commands/constitution-command.js")).registerConstitutionCommand,
  prompts: async () => (await import("./commands/prompts-command.js")).registerPromptsCommand,
  export: async () => (await import("./commands/export-command.js")).registerExportCommand,
  models: async () => (await import("./commands/models-command.js")).registerModelsCommand,
  serve: async () => (await import("./commands/serve-command.js")).registerServeCommand,
  gguf: async () => (await import("./commands/gguf-command.js")).registerGgufCommand,
  train: async () => (await import("./commands/train-command.js")).registerTrainCommand,
  dev: async () => (await import("./commands/dev-command.js")).registerDevCommand,
};

const program = new Command()
  .name("cai")
  .description(
    "Constitutional AI, end to end: constitutions, critique and revision, training, AI feedback, evaluation",
  )
  .version(version);
// `cai revise …` needs only revise and `cai --version` none; `cai`, `cai --help` or a mistyped command
// get every command.
const named = process.argv[2];
const wanted =
  named === "--version" || named === "-V"
    ? []
    : named !== undefined && Object.hasOwn(commands, named)
      ? [named]
      : Object.keys(commands);
for (const name of wanted) (await commands[name]?.())?.(program);
reportUsageErrorsOnOneLine(program);
try {
  await program.parseAsync();
} catch (error) {
  const code = usageExitCode(error);
  if (code === undefined) throw error;
  process.exitCode = code;
}
