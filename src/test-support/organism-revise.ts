// The revision stage on organism requests, for tests that need a real model whose critiques are known: the
// organism is policy and critic, greedy, each request a red-team prompt, in a fresh run directory.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Constitution } from "../constitution/constitution-schema.js";
import { samplePrinciple } from "../constitution/sampling.js";
import { turnRenderers } from "../constitution/templates.js";
import type { LanguageModel } from "../models/model.js";
import { type Request, requestMessages } from "../organism/texts.js";
import type { StageRunResult } from "../runs/run-loop.js";
import { type ReviseRunConfig, runRevise } from "../stages/revise/run-revise.js";

/** Revises `requests` (ids p-0, p-1, …) with `organism`; `config` overrides 3 greedy rounds. */
export async function reviseOrganismRequests(
  organism: LanguageModel,
  requests: readonly Request[],
  constitution: Constitution,
  config: Partial<ReviseRunConfig> = {},
): Promise<{ runDir: string; outcome: StageRunResult }> {
  const runDir = await mkdtemp(path.join(os.tmpdir(), "cai-organism-revise-"));
  const outcome = await runRevise({
    runDir,
    prompts: requests.map((r, i) => ({
      id: `p-${i}`,
      kind: "red-team",
      category: "organism",
      split: "train",
      prompt: requestMessages(r),
    })),
    policy: organism,
    critic: organism,
    constitution,
    templates: turnRenderers(constitution),
    samplePrinciple,
    constitutionHash: constitution.name,
    concurrency: 1,
    config: {
      policy: "organism",
      critic: "organism",
      rounds: 3,
      seed: 1,
      maxTokens: 48,
      temperature: 0,
      earlyStop: false,
      ...config,
    },
  });
  return { runDir, outcome };
}
