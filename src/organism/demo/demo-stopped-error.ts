import { CaiError } from "../../errors/cai-error.js";

/** The demo was stopped (Ctrl-C) between or inside phases; rerunning the same command resumes it. */
export class DemoStoppedError extends CaiError {
  override readonly name = "DemoStoppedError";
}
