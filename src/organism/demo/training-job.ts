// One training job of the demo (an SFT run, a preference model or an RL run) in a child process of its
// own, so that independent jobs train on separate cores: the tfjs trainer and llama.cpp's sampling loop
// both need the JavaScript thread, and one process gives them one core between them. The parent sends the
// job by IPC (a prompt set can outgrow the 128 KiB Linux allows one argument) and receives the result so; Ctrl-C (or the parent's SIGINT) stops the
// job after its step in flight, with a checkpoint, as the CLI's training commands do.
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { constitutionHash, loadConstitution } from "../../constitution/load-constitution.js";
import { CaiError } from "../../errors/cai-error.js";
import { createModel } from "../../models/create-model.js";
import { loadRewardModel } from "../../train/reward/load-reward-model.js";
import { type TrainRewardModelOptions, trainRewardModel } from "../../train/reward/train-rm.js";
import { judgeRewardSource, type RewardSource, rewardModelSource } from "../../train/rl/reward-source.js";
import { type TrainRlOptions, type TrainRlResult, trainRl } from "../../train/rl/train-rl.js";
import { type TrainSftOptions, trainSft } from "../../train/train-sft.js";

/** The reward of an RL job: a preference model's directory, or a llama.cpp judge under a constitution. */
export type RlJobReward =
  | { readonly pm: string }
  | {
      readonly judge: string;
      readonly constitution: string;
      readonly threads: number;
      /** Comparison principles drawn per pair (default 1). */
      readonly principles?: number;
    };

/** A job: the options of `trainSft`, `trainRewardModel` or `trainRl` (without what cannot cross a process). */
export type TrainingJob =
  | { readonly kind: "sft"; readonly options: Omit<TrainSftOptions, "stop" | "onProgress" | "onWarning"> }
  | {
      readonly kind: "rm";
      readonly options: Omit<TrainRewardModelOptions, "stop" | "onProgress" | "onWarning">;
    }
  | {
      readonly kind: "rl";
      readonly options: Omit<TrainRlOptions, "reward" | "stop" | "onProgress" | "onWarning">;
      readonly reward: RlJobReward;
    };

/** What a job returns: the SFT run's files, the reward model's directory, or the RL run's result. */
export type TrainingJobResult =
  | {
      readonly kind: "sft";
      readonly output: string;
      readonly model?: string | undefined;
      readonly finalLoss: number;
      readonly step: number;
    }
  | { readonly kind: "rm"; readonly output: string }
  | { readonly kind: "rl"; readonly result: TrainRlResult };

type Message =
  | { readonly ok: true; readonly result: TrainingJobResult }
  | { readonly ok: false; readonly message: string };

const self = fileURLToPath(import.meta.url);

/**
 * Runs `job` in a child process (this file, under the same Node flags, so it works from the sources and
 * from the build). Aborting `stop` sends the child SIGINT: it checkpoints and ends, and the promise rejects.
 */
export function runTrainingJob(job: TrainingJob, stop?: AbortSignal): Promise<TrainingJobResult> {
  return new Promise((resolve, reject) => {
    const child = fork(self, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.send(job);
    let answer: Message | undefined;
    const onStop = () => child.kill("SIGINT");
    stop?.addEventListener("abort", onStop, { once: true });
    child.on("message", (message) => {
      answer = message as Message;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      stop?.removeEventListener("abort", onStop);
      if (answer?.ok) resolve(answer.result);
      else
        reject(
          new CaiError(
            answer?.message ??
              `the ${job.kind} job in ${job.options.out} ended (${signal ?? `exit code ${code}`})`,
          ),
        );
    });
  });
}

async function rewardOf(reward: RlJobReward): Promise<{ source: RewardSource; close: () => Promise<void> }> {
  if ("pm" in reward) {
    const model = await loadRewardModel(reward.pm, { batchSize: 8 });
    return { source: rewardModelSource(model), close: () => model.close() };
  }
  const constitution = await loadConstitution(reward.constitution);
  const judge = await createModel(reward.judge, {
    llama: { threads: reward.threads, gpu: false, parallel: 4, contextSize: 512 },
  });
  return {
    source: judgeRewardSource({
      judge,
      constitution,
      constitutionHash: constitutionHash(constitution),
      ...(reward.principles === undefined ? {} : { principles: reward.principles }),
    }),
    close: async () => {
      await judge.close?.();
    },
  };
}

async function runJob(job: TrainingJob, stop: AbortSignal): Promise<TrainingJobResult> {
  if (job.kind === "sft") {
    const trained = await trainSft({ ...job.options, stop });
    if (trained.stopped) throw new CaiError("stopped");
    return {
      kind: "sft",
      output: trained.output,
      model: trained.model,
      finalLoss: trained.finalLoss,
      step: trained.step,
    };
  }
  if (job.kind === "rm") {
    const trained = await trainRewardModel({ ...job.options, stop });
    if (trained.stopped) throw new CaiError("stopped");
    return { kind: "rm", output: trained.output };
  }
  const reward = await rewardOf(job.reward);
  try {
    const result = await trainRl({ ...job.options, reward: reward.source, stop });
    if (result.stopped) throw new CaiError("stopped");
    return { kind: "rl", result };
  } finally {
    await reward.close();
  }
}

// The child's side: run the job the parent sends first, answer by IPC, exit.
if (process.argv[1] && path.resolve(process.argv[1]) === self && process.send) {
  const controller = new AbortController();
  process.on("SIGINT", () => controller.abort());
  // A parent that died (SIGKILL, a killed test) leaves no one to answer: checkpoint and exit, not train on.
  process.on("disconnect", () => controller.abort());
  const send = (message: Message) =>
    new Promise<void>((done) => {
      if (!process.connected || !process.send) return done();
      process.send(message, () => done());
    });
  process.once("message", (job) => {
    runJob(job as TrainingJob, controller.signal)
      .then((result) => send({ ok: true, result }))
      .catch((error: unknown) =>
        send({ ok: false, message: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => process.exit(0));
  });
}
