// The models a server serves, by name: the first is the default when a request names none, and an
// unknown name is a 404 that lists the names there are.
import type { LanguageModel } from "../models/model.js";
import { ApiError } from "./openai-errors.js";

/** A model and the name it is served under. */
export interface ServedModel {
  name: string;
  model: LanguageModel;
}

/** Looks up served models by name. */
export class ModelRegistry {
  private readonly byName = new Map<string, ServedModel>();
  /** When the server started, in seconds (the `created` of `/v1/models`). */
  readonly created = Math.floor(Date.now() / 1000);

  constructor(models: readonly ServedModel[]) {
    if (models.length === 0) throw new TypeError("serve: give at least one model to serve");
    for (const served of models) {
      if (!served.name) throw new TypeError("serve: every model needs a non-empty name");
      if (this.byName.has(served.name)) throw new TypeError(`serve: two models are named "${served.name}"`);
      this.byName.set(served.name, { name: served.name, model: served.model });
    }
  }

  /** Names of the served models, the default first. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The model called `name`, if this server serves one (no default). */
  find(name: string): ServedModel | undefined {
    return this.byName.get(name);
  }

  /** Every served model, the default first. */
  get all(): ServedModel[] {
    return [...this.byName.values()];
  }

  /** The model called `name`, or the default one when `name` is absent or empty. */
  resolve(name: string | null | undefined): ServedModel {
    const served = name ? this.byName.get(name) : this.byName.values().next().value;
    if (!served) throw this.notFound(String(name));
    return served;
  }

  /** The 404 for a model this server does not serve, listing those it does. */
  notFound(name: string): ApiError {
    return new ApiError(
      404,
      `The model \`${name}\` does not exist; this server has: ${this.names.join(", ")}`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
}
