// A real local HTTP server that fails on purpose, scripted per request, for testing retries and
// time limits of the remote backends over real sockets (no mocked fetch).
import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the server does with one request. */
export type Fault =
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: "slow"; delayMs: number; body: unknown }
  | { kind: "drop" }
  | { kind: "ok"; body: unknown };

/** A scripted server: request i gets `script[i]` (the last entry repeats). */
export interface FaultyServer {
  url: string;
  /** Requests received, with the time each arrived. */
  requests: Array<{ path: string; at: number; body: unknown }>;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port. */
export async function startFaultyServer(script: Fault[]): Promise<FaultyServer> {
  const requests: FaultyServer["requests"] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    let raw = "";
    request.on("data", (chunk: Buffer) => {
      raw += chunk.toString();
    });
    request.on("end", () => {
      const fault = script[Math.min(requests.length, script.length - 1)] ?? { kind: "drop" };
      requests.push({
        path: request.url ?? "",
        at: performance.now(),
        body: raw ? JSON.parse(raw) : undefined,
      });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { "content-type": "application/json", ...headers });
        response.end(JSON.stringify(body));
      };
      switch (fault.kind) {
        case "status":
          return json(
            fault.status,
            fault.body ?? { error: { message: `scripted ${fault.status}`, type: "test" } },
            fault.headers,
          );
        case "slow": {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!response.destroyed) json(200, fault.body);
          }, fault.delayMs);
          timers.add(timer);
          return;
        }
        case "drop":
          return request.socket.destroy();
        case "ok":
          return json(200, fault.body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
