#!/usr/bin/env node
// The `cai` command line: each command lives in its own file under commands/ and only parses flags
// before calling the library.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerConstitutionCommand } from "./commands/constitution-command.js";
import { registerDemoCommand } from "./commands/demo-command.js";
import { registerDevCommand } from "./commands/dev-command.js";
import { registerEvalCommand, registerJudgeCommand } from "./commands/eval-command.js";
import { registerExportCommand } from "./commands/export-command.js";
import { registerGgufCommand } from "./commands/gguf-command.js";
import { registerLabelCommand } from "./commands/label-command.js";
import { registerModelsCommand } from "./commands/models-command.js";
import { registerPromptsCommand } from "./commands/prompts-command.js";
import { registerRespondCommand } from "./commands/respond-command.js";
import { registerReviseCommand } from "./commands/revise-command.js";
import { registerServeCommand } from "./commands/serve-command.js";
import { registerTrainCommand } from "./commands/train-command.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const program = new Command()
  .name("cai")
  .description(
    "Constitutional AI, end to end: constitutions, critique and revision, training, AI feedback, evaluation",
  )
  .version(version)
  .showHelpAfterError();
registerDemoCommand(program);
registerReviseCommand(program);
registerRespondCommand(program);
registerLabelCommand(program);
registerEvalCommand(program);
registerJudgeCommand(program);
registerConstitutionCommand(program);
registerPromptsCommand(program);
registerExportCommand(program);
registerModelsCommand(program);
registerServeCommand(program);
registerGgufCommand(program);
registerTrainCommand(program);
registerDevCommand(program);
await program.parseAsync();
