// `GET /v1/models` and `GET /v1/models/{id}`: the served models in OpenAI's shape, or in Anthropic's when
// the request comes with Anthropic's headers (its SDK's `models.list` / `models.retrieve` call the same
// paths); an unknown id is a 404 in the caller's error shape.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { isAnthropicRequest } from "./anthropic-errors.js";
import type { ServedModel } from "./model-registry.js";
import { parseBody } from "./parse-body.js";
import type { ServerContext } from "./server-context.js";

/** Anthropic's list query: a page of `limit` models after or before an id. */
const anthropicPageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  after_id: z.string().optional(),
  before_id: z.string().optional(),
  /** Models in these lifecycle states; every served model is `active`. */
  lifecycle: z.union([z.string(), z.array(z.string())]).optional(),
});

/** Registers both routes. */
export function registerModelsRoutes(app: FastifyInstance, context: ServerContext): void {
  const { models } = context;
  const openAIModel = (served: ServedModel) => ({
    id: served.name,
    object: "model",
    created: models.created,
    owned_by: "cai",
  });
  const anthropicModel = async (served: ServedModel) => ({
    type: "model",
    id: served.name,
    display_name: served.name,
    created_at: new Date(models.created * 1000).toISOString(),
    max_input_tokens: (await served.model.info?.())?.contextSize ?? null,
    max_tokens: null,
    capabilities: null,
    lifecycle: "active",
    line: null,
    deprecated_at: null,
    retires_at: null,
  });

  app.get("/v1/models", async (request) => {
    if (!isAnthropicRequest(request)) return { object: "list", data: models.all.map(openAIModel) };
    const query = parseBody(anthropicPageQuery, request.query ?? {});
    const lifecycle =
      query.lifecycle === undefined ? undefined : [query.lifecycle].flat().flatMap((l) => l.split(","));
    let page = lifecycle === undefined || lifecycle.includes("active") ? models.all : [];
    const at = (id: string | undefined) => (id === undefined ? -1 : page.findIndex((m) => m.name === id));
    if (query.after_id !== undefined) page = page.slice(at(query.after_id) + 1);
    if (query.before_id !== undefined) page = page.slice(0, Math.max(0, at(query.before_id)));
    const limit = query.limit ?? 20;
    const shown =
      query.before_id !== undefined && query.after_id === undefined
        ? page.slice(-limit)
        : page.slice(0, limit);
    const data = await Promise.all(shown.map(anthropicModel));
    return {
      data,
      has_more: shown.length < page.length,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
    };
  });

  // A wildcard, so ids with slashes (`org/model`) are found too.
  app.get("/v1/models/*", async (request) => {
    const id = (request.params as { "*": string })["*"];
    const served = models.find(id);
    if (!served) throw models.notFound(id);
    return isAnthropicRequest(request) ? anthropicModel(served) : openAIModel(served);
  });
}
