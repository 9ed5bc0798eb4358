// Checkpoints: an exact round trip of variables, AdamW state, position and history; the newest file wins;
// mismatched or malformed checkpoints are refused; a damaged newest one falls back to the one before.
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { testFolder } from "../../test-support/test-models.js";
import { encodeSafetensors } from "../formats/safetensors.js";
import { initTrainingBackend } from "../model/backend.js";
import { AdamW } from "../objectives/sft.js";
import {
  captureCheckpoint,
  checkpointFileName,
  loadLatestCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from "./checkpoint.js";

beforeAll(async () => {
  await initTrainingBackend();
});

function variables(values: number[][]): tf.Variable[] {
  return values.map((v) => tf.variable(tf.tensor2d(v, [1, v.length])));
}

describe("checkpoints", () => {
  it("round-trip variables, AdamW state, position and history exactly", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "checkpoint-"));
    expect(await loadLatestCheckpoint(dir)).toBeUndefined();
    expect(await loadLatestCheckpoint(path.join(dir, "missing"))).toBeUndefined();
    const trained = variables([[0.1, -0.2, 1 / 3], [Math.PI]]);
    const optimizer = new AdamW(trained);
    tf.tidy(() => optimizer.apply([tf.tensor2d([[0.5, -1, 1e-7]]), tf.tensor2d([[2]])], 0.01));
    const history = [
      { step: 1, loss: 1 / 7, learningRate: 0.01, gradNorm: 2.3, appliedGradNorm: 1, evalLoss: 0.3 },
    ];
    const saved = captureCheckpoint(trained, optimizer, 1, { epoch: 2, index: 5 }, history);
    await saveCheckpoint(dir, saved);
    await saveCheckpoint(dir, { ...saved, step: 4 });
    await saveCheckpoint(dir, { ...saved, step: 2 });
    await saveCheckpoint(dir, { ...saved, step: 3 }, 3);
    expect(await readdir(dir)).toEqual([checkpointFileName(2), checkpointFileName(3), checkpointFileName(4)]);

    const loaded = await loadLatestCheckpoint(dir);
    expect(loaded).toEqual({ ...saved, step: 4 });

    const other = variables([[0, 0, 0], [0]]);
    const otherOptimizer = new AdamW(other);
    restoreCheckpoint(loaded ?? saved, other, otherOptimizer);
    expect(other.map((v) => Array.from(v.dataSync()))).toEqual(trained.map((v) => Array.from(v.dataSync())));
    expect(otherOptimizer.exportState()).toEqual(optimizer.exportState());
    expect(otherOptimizer.stepCount).toBe(1);

    const wrong = variables([[0, 0], [0]]);
    expect(() => restoreCheckpoint(saved, wrong, new AdamW(wrong))).toThrow(/shape/);
    expect(() => restoreCheckpoint(saved, [other[0] as tf.Variable], otherOptimizer)).toThrow(/variables/);
    tf.dispose([...trained, ...other, ...wrong]);
    optimizer.dispose();
    otherOptimizer.dispose();
  });

  it("refuses a checkpoint without a valid manifest", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "checkpoint-bad-"));
    const file = path.join(dir, checkpointFileName(1));
    await writeFile(file, encodeSafetensors([], {}));
    await expect(loadLatestCheckpoint(dir)).rejects.toThrow(/cai.checkpoint/);
    await writeFile(file, encodeSafetensors([], { "cai.checkpoint": '{"version":1,"step":-1}' }));
    await expect(loadLatestCheckpoint(dir)).rejects.toThrow(/malformed/);
    const manifest = {
      version: 1,
      step: 1,
      position: { epoch: 0, index: 0 },
      history: [],
      optimizerSteps: 1,
      variables: 1,
    };
    await writeFile(file, encodeSafetensors([], { "cai.checkpoint": JSON.stringify(manifest) }));
    await expect(loadLatestCheckpoint(dir)).rejects.toThrow(/var\.0 is missing/);
  });

  it("falls back to the previous checkpoint when the newest is cut, overwritten or altered, saying so", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "checkpoint-damaged-"));
    const trained = variables([[0.25, -0.5], [2]]);
    const optimizer = new AdamW(trained);
    const at = (step: number) => captureCheckpoint(trained, optimizer, step, { epoch: 0, index: step }, []);
    await saveCheckpoint(dir, at(10));
    const newest = await saveCheckpoint(dir, at(20));
    const previous = path.join(dir, checkpointFileName(10));
    const good = await readFile(newest);
    const garbage = Uint8Array.from({ length: good.length }, (_, i) => (i * 7919 + 13) % 251);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] ?? 0) ^ 0x10; // one bit of one value
    const damages: [string, () => Promise<void>, RegExp][] = [
      ["cut", () => truncate(newest, Math.floor(good.length / 2)), /not a valid safetensors file/],
      ["garbage", () => writeFile(newest, garbage), /not a valid safetensors file/],
      ["flipped bit", () => writeFile(newest, flipped), /does not match the checksum/],
    ];
    for (const [what, damage, reason] of damages) {
      await saveCheckpoint(dir, at(20));
      expect((await loadLatestCheckpoint(dir))?.step, what).toBe(20);
      await damage();
      const warnings: string[] = [];
      const loaded = await loadLatestCheckpoint(dir, { onWarning: (m) => warnings.push(m) });
      expect(loaded, what).toEqual(at(10));
      expect(warnings, what).toHaveLength(1);
      expect(warnings[0], what).toMatch(reason);
      expect(warnings[0], what).toContain(`${newest} is not a valid`);
      expect(warnings[0], what).toContain(`resuming from the previous checkpoint, ${previous} (step 10)`);
      // The damaged file is moved aside, so the next saves keep the latest two good checkpoints.
      expect(await readdir(dir)).toEqual([checkpointFileName(10), `${checkpointFileName(20)}.damaged`]);
      await saveCheckpoint(dir, at(15));
      expect((await readdir(dir)).filter((f) => !f.endsWith(".damaged"))).toEqual([
        checkpointFileName(10),
        checkpointFileName(15),
      ]);
      await rm(path.join(dir, checkpointFileName(15)));
    }

    // When every checkpoint is damaged, the error names each file, and nothing is moved.
    await saveCheckpoint(dir, at(20));
    await writeFile(newest, garbage);
    await writeFile(previous, "not a checkpoint");
    const both = loadLatestCheckpoint(dir);
    await expect(both).rejects.toThrow(`no checkpoint in ${dir} can be read: ${newest} is not a valid`);
    await expect(both).rejects.toThrow(`; ${previous} is not a valid`);
    expect((await readdir(dir)).filter((f) => !f.endsWith(".damaged"))).toHaveLength(2);
    tf.dispose(trained);
    optimizer.dispose();
  });
});
