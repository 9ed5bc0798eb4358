// The lifetime of one request's model work: an AbortSignal that fires when the request runs past its
// time limit, when the client disconnects, or when the server closes, and a race against that deadline.
import type { FastifyReply } from "fastify";

/** The request ran longer than the server's `requestTimeoutMs`. */
export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the request took longer than ${timeoutMs} ms and was stopped`);
  }
}

/** The client went away before the answer was complete. */
export class ClientClosedError extends Error {
  override readonly name = "ClientClosedError";
  constructor() {
    super("the client closed the connection");
  }
}

/** The server is shutting down. */
export class ServerClosingError extends Error {
  override readonly name = "ServerClosingError";
  constructor() {
    super("the server is shutting down");
  }
}

/** Why a scope ended early. */
type StopReason = RequestTimeoutError | ClientClosedError | ServerClosingError;

/** One request's model work: its signal, and whether (and why) it was stopped. */
export class RequestScope {
  private readonly controller = new AbortController();
  private readonly stopped: Promise<never>;
  private rejectStopped: (reason: StopReason) => void = () => {};
  private stopReason: StopReason | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onClose: () => void;

  constructor(
    private readonly reply: FastifyReply,
    timeoutMs: number,
    private readonly onDispose: (scope: RequestScope) => void,
  ) {
    this.stopped = new Promise<never>((_, reject) => {
      this.rejectStopped = reject;
    });
    this.stopped.catch(() => {});
    // 0 or Infinity: no limit. Node's timers hold at most 2^31 − 1 ms.
    this.timer =
      timeoutMs > 0 && Number.isFinite(timeoutMs)
        ? setTimeout(() => this.stop(new RequestTimeoutError(timeoutMs)), Math.min(timeoutMs, 2 ** 31 - 1))
        : undefined;
    // `close` also fires after a complete answer; only an unfinished one means the client left.
    this.onClose = () => {
      if (!reply.raw.writableFinished) this.stop(new ClientClosedError());
    };
    reply.raw.on("close", this.onClose);
    if (reply.raw.destroyed || reply.request.raw.socket?.destroyed) this.stop(new ClientClosedError());
  }

  /** Fires when the request must stop; pass it to every model call. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the request was stopped, if it was. */
  get reason(): StopReason | undefined {
    return this.stopReason;
  }

  /**
   * Waits for `work`, but rejects as soon as the request is stopped (with the reason as the error),
   * so a model that is slow to notice its signal cannot hold up the answer.
   */
  async run<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {});
    try {
      return await Promise.race([work, this.stopped]);
    } catch (error) {
      // A model that noticed the abort first throws ModelAbortedError: report the reason instead.
      throw this.stopReason ?? error;
    }
  }

  /** Stops the request's work: rejects `run` with `reason` and aborts the signal. */
  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    // Reject first, so `run` reports the reason rather than the model's reaction to the abort.
    this.rejectStopped(reason);
    this.controller.abort(reason);
  }

  /** Ends the scope once the answer is written: no more timer or listeners. */
  dispose(): void {
    clearTimeout(this.timer);
    this.reply.raw.off("close", this.onClose);
    this.onDispose(this);
  }
}

/** Opens request scopes and keeps the live ones, so closing the server can stop them. */
export class RequestScopes {
  private readonly live = new Set<RequestScope>();

  constructor(private readonly timeoutMs: number) {}

  /** Runs `handler` in a new scope for `reply`, disposing of the scope when it settles. */
  async with<T>(reply: FastifyReply, handler: (scope: RequestScope) => Promise<T>): Promise<T> {
    const scope = new RequestScope(reply, this.timeoutMs, (s) => this.live.delete(s));
    this.live.add(scope);
    try {
      return await handler(scope);
    } finally {
      scope.dispose();
    }
  }

  /** Stops every request still running (the server is closing). */
  stopAll(): void {
    for (const scope of this.live) scope.stop(new ServerClosingError());
  }
}
