// `cai serve --model SPEC`: serves models over an OpenAI-compatible (and Anthropic Messages) HTTP API.
import type { Command } from "commander";
import { createModel } from "../../models/create-model.js";
import { addModelFlags, type ModelFlags, modelOptionsFromFlags } from "../model-flags.js";
import { collectFlag, intFlag, runAction } from "../run-action.js";

interface ServeFlags extends ModelFlags {
  model: string[];
  name: string[];
  host: string;
  port: number;
  bodyLimit: number;
  requestTimeout: number;
}

/** Registers `cai serve`. */
export function registerServeCommand(program: Command): void {
  addModelFlags(
    program
      .command("serve")
      .description(
        "serve models over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/messages)",
      )
      .requiredOption("--model <spec>", "model to serve (repeat for several)", collectFlag, [])
      .option(
        "--name <name>",
        "name clients use for each --model, in order (default: the file or model name)",
        collectFlag,
        [],
      )
      .option("--host <host>", "address to bind", "127.0.0.1")
      .option("--port <port>", "port (0: any free port)", intFlag("--port", 0, 65535), 8080)
      .option("--body-limit <bytes>", "largest request body", intFlag("--body-limit", 1), 4 * 1024 * 1024)
      .option("--request-timeout <ms>", "longest a request may run", intFlag("--request-timeout", 1), 600_000)
      .option("--api-key <key>", "require this Bearer key from clients (default: $CAI_API_KEY; none)"),
    { apiKey: false },
  ).action(
    runAction(async (flags: ServeFlags) => {
      if (flags.apiKey === undefined && process.env.CAI_API_KEY) flags.apiKey = process.env.CAI_API_KEY;
      // Loaded here, not at the top: a mistyped flag is answered without loading the HTTP server.
      const { startServer } = await import("../../serve/index.js");
      const models = [];
      for (const [i, spec] of flags.model.entries()) {
        const model = await createModel(spec, modelOptionsFromFlags({ ...flags, apiKey: undefined }));
        models.push({ name: flags.name[i] ?? model.modelId, model });
      }
      const server = await startServer({
        models,
        host: flags.host,
        port: flags.port,
        bodyLimitBytes: flags.bodyLimit,
        requestTimeoutMs: flags.requestTimeout,
        ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
      });
      console.log(
        `cai serve: ${models.map((m) => m.name).join(", ")} at ${server.url}/v1${flags.apiKey ? " (API key required)" : ""}`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      console.log("cai serve: stopping");
      await server.close();
      for (const { model } of models) await model.close?.();
    }),
  );
}
