// What every route of the server shares: the served models and the scopes of the requests in flight.
import type { ModelRegistry } from "./model-registry.js";
import type { RequestScopes } from "./request-scope.js";

/** State shared by the routes of one server. */
export interface ServerContext {
  models: ModelRegistry;
  scopes: RequestScopes;
}
