// `npm run organism:pretrain`: pretrains the shipped organisms from their seeds and writes them to
// `organism/` — the organism and its knowledge ablation (no ethics text), trained at the same time in two
// processes (tfjs-wasm trains on one core each) — with the constitution and a manifest of how they were
// made. Interrupted runs resume from checkpoints in the cai cache directory.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { caiCacheDir } from "../config/cache-dir.js";
import { defaultCorpus } from "./corpus.js";
import { organismConstitution } from "./organism-constitution.js";
import { organismShape, pretrainOrganism } from "./pretrain.js";

/** The two organisms: file stem and whether the corpus keeps its ethics text. */
const variants = { organism: false, "organism-no-ethics": true } as const;
type Variant = keyof typeof variants;

/** Pretraining settings of the shipped organisms. */
export const shippedPretraining = { seed: 0, epochs: 2, batchSize: 16, lr: 2e-3 } as const;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = path.join(root, "organism");

const workDir = path.join(caiCacheDir(), "organism-pretrain");
const summaryPath = (variant: Variant) => path.join(workDir, `${variant}.summary.json`);

async function pretrainVariant(variant: Variant): Promise<void> {
  const started = performance.now();
  const result = await pretrainOrganism({
    model: path.join(outDir, `${variant}.gguf`),
    work: path.join(workDir, variant),
    withoutEthics: variants[variant],
    seed: shippedPretraining.seed,
    epochs: shippedPretraining.epochs,
    batchSize: shippedPretraining.batchSize,
    lr: shippedPretraining.lr,
    onProgress: (p) => {
      if (p.step % 50 === 0 || p.step === p.totalSteps)
        console.log(
          `${variant}: step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s, ${Math.round(p.etaSeconds)} s left`,
        );
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    documents: result.documents,
    tokens: result.tokens,
    parameters: result.parameters,
    steps: result.result.step,
    finalLoss: result.result.history.at(-1)?.loss ?? null,
    seconds: Math.round(seconds),
  };
  await writeFile(summaryPath(variant), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`${variant}: done in ${summary.seconds} s`);
}

async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

async function main(): Promise<void> {
  const only = process.argv[2] as Variant | undefined;
  if (only !== undefined) {
    if (!(only in variants)) throw new Error(`unknown organism "${only}"`);
    await pretrainVariant(only);
    return;
  }
  // The ablation in a child process, the organism here: one core each.
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), "organism-no-ethics"],
    {
      stdio: "inherit",
    },
  );
  const childDone = new Promise<void>((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`the ablation's pretraining exited with ${code}`)),
    ),
  );
  await pretrainVariant("organism");
  await childDone;
  await writeFile(path.join(outDir, "constitution.yaml"), stringify(organismConstitution()));
  const manifest = {
    about:
      "cai's model organism: see README.md, 'The model organism'. Rebuild with `npm run organism:pretrain`.",
    shape: organismShape,
    corpus: defaultCorpus,
    pretraining: shippedPretraining,
    files: Object.fromEntries(
      await Promise.all(
        Object.keys(variants).map(async (v) => [
          `${v}.gguf`,
          {
            sha256: await sha256(path.join(outDir, `${v}.gguf`)),
            ...JSON.parse(await readFile(summaryPath(v as Variant), "utf8")),
          },
        ]),
      ),
    ),
  };
  await writeFile(path.join(outDir, "organism.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

await main();
