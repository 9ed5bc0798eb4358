// Builds and starts the OpenAI- (and Anthropic-) compatible HTTP server for models loaded in-process:
// options, API-key check, JSON errors for everything (413, 415, 404…) in the caller's shape, `/health`,
// and the routes.
import { createHash, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { LanguageModel } from "../models/model.js";
import { anthropicErrorBody, isAnthropicRequest } from "./anthropic-errors.js";
import { registerChatCompletionsRoute } from "./chat-completions-route.js";
import { registerCompletionsRoute } from "./completions-route.js";
import { registerCountTokensRoute, registerMessagesRoute } from "./messages-route.js";
import { ModelRegistry } from "./model-registry.js";
import { registerModelsRoutes } from "./models-route.js";
import { ApiError, openAIErrorBody, toApiError } from "./openai-errors.js";
import { RequestScopes } from "./request-scope.js";
import type { ServerContext } from "./server-context.js";
import { registerTokenizeRoute } from "./tokenize-route.js";

/** Options of {@link startServer} and {@link buildServer}. */
export interface ServeOptions {
  /** Models served under these names; the first is the default when a request names no model. */
  models: Array<{ name: string; model: LanguageModel }>;
  /** Default `"127.0.0.1"`. */
  host?: string;
  /** Default 8080; 0 picks any free port. */
  port?: number;
  /**
   * When set, every `/v1` route and `/tokenize` require `Authorization: Bearer KEY` (or `x-api-key: KEY`,
   * as Anthropic's API takes it); others get 401. `/health` stays open.
   */
  apiKey?: string;
  /** Largest request body accepted; larger ones get 413. Default 4 MiB. */
  bodyLimitBytes?: number;
  /**
   * Time limit of one request, in milliseconds, counted from when its body has been read; default 10
   * minutes, 0 for none. A request running longer has its model call aborted and is answered 504 (or,
   * once a stream has started, ends with an error event).
   */
  requestTimeoutMs?: number;
  /** Fastify's request logging. Default false. */
  logger?: boolean;
}

/** A server listening for requests. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`; OpenAI clients take `${url}/v1`, Anthropic's SDK `url`. */
  url: string;
  /** Stops listening, aborts the requests still running, and waits for them. The models stay open. */
  close(): Promise<void>;
}

const defaultBodyLimit = 4 * 1024 * 1024;
const defaultTimeoutMs = 10 * 60 * 1000;
/** How long `close` lets stopped requests finish their answers before it cuts the connections left. */
const closeGraceMs = 250;

/** SHA-256 of a string, so keys of any length compare in constant time. */
function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Whether a request carries the API key: as a Bearer token (OpenAI's way) or in `x-api-key` (Anthropic's). */
function hasApiKey(request: FastifyRequest, expected: Buffer): boolean {
  const candidates: string[] = [];
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1];
  if (bearer) candidates.push(bearer.trim());
  const headerKey = request.headers["x-api-key"];
  if (typeof headerKey === "string") candidates.push(headerKey);
  return candidates.some((key) => timingSafeEqual(digest(key), expected));
}

/** Sends an error in the shape the caller expects (Anthropic's to Anthropic's clients, else OpenAI's). */
function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  const body = isAnthropicRequest(request) ? anthropicErrorBody(error) : openAIErrorBody(error);
  return reply.status(error.status).type("application/json; charset=utf-8").send(body);
}

/** What this server answers, for the 404 of any other route. */
const servedRoutes = [
  "GET /v1/models",
  "GET /v1/models/{id}",
  "POST /v1/chat/completions",
  "POST /v1/completions",
  "POST /v1/messages",
  "POST /v1/messages/count_tokens",
  "POST /tokenize",
  "GET /health",
].join(", ");

/**
 * The server's fastify instance, not yet listening: for `inject()` in tests, or to add routes. The
 * models are not closed with it; close them after the server.
 */
export function buildServer(options: ServeOptions): FastifyInstance {
  const context: ServerContext = {
    models: new ModelRegistry(options.models),
    scopes: new RequestScopes(options.requestTimeoutMs ?? defaultTimeoutMs),
  };
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? defaultBodyLimit,
  });
  // JSON only: other content types (text/plain included) are answered 415.
  app.removeContentTypeParser("text/plain");

  app.setErrorHandler((error, request, reply) => {
    const api = toApiError(error);
    if (api.status === 500) request.log.error({ err: error }, "request failed");
    return sendError(request, reply, api);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new ApiError(
        404,
        `no route ${request.method} ${request.url.split("?")[0]}; cai serve answers ${servedRoutes}`,
        "invalid_request_error",
        "not_found",
      ),
    ),
  );

  const apiKey = options.apiKey;
  if (apiKey) {
    const expected = digest(apiKey);
    app.addHook("onRequest", async (request) => {
      const path = request.url.split("?")[0] ?? "";
      const guarded = path === "/v1" || path.startsWith("/v1/") || path === "/tokenize";
      if (guarded && !hasApiKey(request, expected)) {
        throw new ApiError(401, "invalid or missing API key", "invalid_request_error", "invalid_api_key");
      }
    });
  }
  // Closing waits for requests in flight: stop them rather than let a long generation hold it up.
  app.addHook("preClose", async () => context.scopes.stopAll());

  app.get("/health", async () => ({ status: "ok", models: context.models.names }));
  registerChatCompletionsRoute(app, context);
  registerCompletionsRoute(app, context);
  registerMessagesRoute(app, context);
  registerCountTokensRoute(app, context);
  registerModelsRoutes(app, context);
  registerTokenizeRoute(app, context);
  // OpenAI's newer Responses API is not served: say so, rather than a bare "no route".
  const responses = async () => {
    throw new ApiError(
      404,
      "/v1/responses (OpenAI's Responses API) is not served by cai serve; use POST /v1/chat/completions",
      "invalid_request_error",
      "unsupported_endpoint",
    );
  };
  app.all("/v1/responses", responses);
  app.all("/v1/responses/*", responses);
  return app;
}

/** Builds the server and starts listening; the URL has the actual port when `port` is 0. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const app = buildServer(options);
  const host = options.host ?? "127.0.0.1";
  await app.listen({ host, port: options.port ?? 8080 });
  const { port } = app.server.address() as AddressInfo;
  // A wildcard address is not one to connect to: give the loopback of the same family.
  const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  return {
    url,
    close: async () => {
      const closing = app.close();
      // Requests in flight are stopped and answered at once; a connection a client opened but never
      // used is not "idle" to Node and would hold `close` until the client drops it: cut it.
      const force = setTimeout(() => app.server.closeAllConnections(), closeGraceMs);
      try {
        await closing;
      } finally {
        clearTimeout(force);
      }
    },
  };
}
