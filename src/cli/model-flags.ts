// Flags shared by every command that loads a model from a spec string.

import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { caiCacheDir } from "../config/cache-dir.js";
import { CallCache } from "../models/cache/call-cache.js";
import type { CreateModelOptions } from "../models/create-model.js";
import { httpUrlProblem } from "../models/spec.js";
import { intFlag } from "./run-action.js";
import { UsageError } from "./usage-error.js";

/** Values of the model flags. */
export interface ModelFlags {
  baseUrl?: string;
  apiKey?: string;
  threads?: number;
  context?: number;
  parallel?: number;
  timeout?: number;
  retries?: number;
  /** Where deterministic calls are cached; `false` with `--no-cache`. */
  cache?: boolean;
  cacheFile?: string;
}

/** `--base-url` as given, when it is an http(s) URL (the SDKs would fail on it later with "Invalid URL"). */
function baseUrlFlag(value: string): string {
  const problem = httpUrlProblem(value);
  if (problem) throw new InvalidArgumentError(`--base-url "${value}" ${problem}`);
  return value;
}

/**
 * Adds the model flags to a command. `apiKey: false` leaves out `--api-key` for commands where that
 * flag means something else (`cai serve`: the key clients must send); remote keys then come from env.
 */
export function addModelFlags(command: Command, { apiKey = true } = {}): Command {
  command.option(
    "--base-url <url>",
    "OpenAI-compatible or Anthropic server URL (default: $OPENAI_BASE_URL / $ANTHROPIC_BASE_URL)",
    baseUrlFlag,
  );
  if (apiKey) command.option("--api-key <key>", "API key (default: $OPENAI_API_KEY / $ANTHROPIC_API_KEY)");
  return command
    .option(
      "--threads <n>",
      "llama.cpp CPU threads (default: measured once per model file)",
      intFlag("--threads", 1),
    )
    .option("--context <tokens>", "llama.cpp context size per sequence", intFlag("--context", 16))
    .option("--parallel <n>", "llama.cpp parallel sequences (concurrent calls)", intFlag("--parallel", 1))
    .option("--timeout <ms>", "per-call time limit for remote models", intFlag("--timeout", 1))
    .option("--retries <n>", "retries of transient faults for remote models", intFlag("--retries", 0))
    .option(
      "--cache-file <file>",
      "SQLite cache of deterministic model calls (default: ~/.cache/cai/calls.sqlite)",
    )
    .option("--no-cache", "call the model every time, even for calls answered before");
}

/** The call cache the flags ask for, or undefined with `--no-cache`. */
export function callCacheFromFlags(flags: ModelFlags): CallCache | undefined {
  if (flags.cache === false) return undefined;
  return new CallCache(flags.cacheFile ?? path.join(caiCacheDir(), "calls.sqlite"));
}

/** Backend options from the model flags. */
export function modelOptionsFromFlags(flags: ModelFlags): CreateModelOptions {
  const remote = {
    ...(flags.baseUrl ? { baseURL: flags.baseUrl } : {}),
    ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    ...(flags.retries !== undefined ? { maxRetries: flags.retries } : {}),
  };
  return {
    llama: {
      ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
      ...(flags.context !== undefined ? { contextSize: flags.context } : {}),
      ...(flags.parallel !== undefined ? { parallel: flags.parallel } : {}),
    },
    openai: remote,
    anthropic: remote,
  };
}

/**
 * The options and call cache of a stage that works on `concurrency` records at once: llama.cpp gets as
 * many parallel sequences unless `--parallel` says otherwise. Close the cache when done.
 */
export function stageModelOptions(
  flags: ModelFlags,
  concurrency: number,
): { options: CreateModelOptions; cache: CallCache | undefined } {
  const cache = callCacheFromFlags(flags);
  const modelOptions = modelOptionsFromFlags(flags);
  return {
    options: {
      ...modelOptions,
      llama: { parallel: concurrency, ...modelOptions.llama },
      ...(cache ? { cache } : {}),
    },
    cache,
  };
}

/**
 * `--temperature` as a finite number ≥ 0 (`Infinity` and `""` are refused, not read as a temperature), and
 * `--split` one of train, test, all; throws UsageError otherwise.
 */
export function samplingFlags(flags: { temperature: string; split: string }): { temperature: number } {
  const temperature = flags.temperature.trim() === "" ? Number.NaN : Number(flags.temperature);
  if (!(Number.isFinite(temperature) && temperature >= 0))
    throw new UsageError(`--temperature must be a number ≥ 0, got "${flags.temperature}"`);
  if (!["train", "test", "all"].includes(flags.split))
    throw new UsageError(`--split must be train, test or all, got "${flags.split}"`);
  return { temperature };
}
