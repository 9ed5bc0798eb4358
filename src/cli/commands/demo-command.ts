// `cai demo`: the whole Constitutional AI loop on the shipped model organism, offline, with a report
// measured both by the organism as AI judge and by the world's ground truth. Rerun to resume.
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { type Command, Option } from "commander";
import { CaiError } from "../../errors/cai-error.js";
import { DemoStoppedError } from "../../organism/demo/demo-stopped-error.js";
import { demoSummaryLines } from "../../organism/demo/demo-summary.js";
import { demoSizes, runDemo } from "../../organism/demo/run-demo.js";
import { shippedOrganisms } from "../../organism/shipped.js";
import { lockFileName, lockHolderFileName, lockRunDir } from "../../runs/run-dir-lock.js";
import { intFlag, runAction } from "../run-action.js";
import { stopOnSigint } from "../stop-on-sigint.js";

interface DemoFlags {
  out: string;
  quick: boolean;
  smoke: boolean;
  ablations: boolean;
  organism?: string;
  ablationOrganism?: string;
  seed: number;
  jobs?: number;
  restart: boolean;
}

/** Registers `cai demo`. */
export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "run the whole loop (revise, SL-CAI, AI labels, DPO, eval) on the shipped model organism and measure it against ground truth",
    )
    .option("--out <dir>", "output directory (rerun the same command to resume)", "cai-demo")
    .option("--quick", "a smaller run (what CI measures)", false)
    .addOption(
      new Option(
        "--smoke",
        "the smallest run: every phase once, in about a minute; its numbers mean nothing (checks an install)",
      )
        .default(false)
        .conflicts("quick"),
    )
    .option("--ablations", "also run the paper's ablations in miniature (one table in the report)", false)
    .option("--organism <file>", "the pretrained organism (default: the shipped one)")
    .option(
      "--ablation-organism <file>",
      "the organism pretrained without ethics text (default: the shipped one)",
    )
    .option("--seed <n>", "seed of the prompts, sampling and training", intFlag("--seed"), 0)
    .option(
      "--jobs <n>",
      "training jobs (SL-CAI rounds, preference models, RL runs) at once, each its own process (default: 2, or 1 on one core)",
      intFlag("--jobs", 1),
    )
    .option("--restart", "discard an earlier demo in --out and start again", false)
    .action(
      runAction(async (flags: DemoFlags) => {
        const shipped = shippedOrganisms();
        const organism = flags.organism ?? shipped.organism;
        const ablationOrganism = flags.ablationOrganism ?? shipped.ablation;
        for (const file of [organism, ablationOrganism])
          if (!existsSync(file))
            throw new CaiError(
              `${file} does not exist; rebuild the organism with \`npm run organism:pretrain\``,
            );
        if (flags.restart && existsSync(flags.out) && !existsSync(path.join(flags.out, "phases")))
          throw new CaiError(`${flags.out} does not look like a demo directory; not deleting it`);
        // One lock over --out covers every run directory of the demo (a second demo there is refused).
        const lock = lockRunDir(flags.out);
        if (flags.restart)
          // The lock file stays: deleting it would let another process lock a new one beside ours.
          for (const entry of await readdir(flags.out))
            if (entry !== lockFileName && entry !== lockHolderFileName)
              await rm(path.join(flags.out, entry), { recursive: true, force: true });
        const stop = stopOnSigint();
        try {
          const summary = await runDemo({
            out: flags.out,
            organism,
            ablationOrganism,
            sizes: demoSizes[flags.smoke ? "smoke" : flags.quick ? "quick" : "full"],
            ablations: flags.ablations,
            seed: flags.seed,
            ...(flags.jobs === undefined ? {} : { jobs: flags.jobs }),
            stop: stop.signal,
          });
          for (const line of demoSummaryLines(summary)) console.log(line);
          console.error(`report: ${summary.reportHtml}`);
        } catch (error) {
          if (!(CaiError.isInstance(error) && error.name === new DemoStoppedError("").name)) throw error;
          console.error(`demo: ${error.message}`);
          process.exitCode = 130;
        } finally {
          stop.dispose();
          lock.release();
        }
      }),
    );
}
