// Server-sent events on a fastify reply. The stream starts (status 200, headers) only with its first
// event, so errors found before any output (a prompt too long, a timeout) still get a plain JSON answer.
import type { FastifyReply } from "fastify";

/** Writes `data:` lines (OpenAI) or `event:`/`data:` pairs (Anthropic) to one response. */
export class SseWriter {
  private startedStream = false;

  constructor(private readonly reply: FastifyReply) {}

  /** Whether the status and headers are out: from then on, errors can only be reported in the stream. */
  get started(): boolean {
    return this.startedStream;
  }

  /** Whether the client can still read what is written. */
  get open(): boolean {
    const raw = this.reply.raw;
    return !raw.destroyed && !raw.writableEnded;
  }

  /** Writes `data: JSON` (or a raw string such as `[DONE]`), starting the stream if needed. */
  data(payload: unknown): void {
    this.write(`data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`);
  }

  /** Writes a named event, `event: NAME` then `data: JSON`. */
  event(name: string, payload: unknown): void {
    this.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  /** Ends the response (if it was started; otherwise fastify still owns it). */
  end(): void {
    if (this.startedStream && this.open) this.reply.raw.end();
  }

  private write(text: string): void {
    if (!this.startedStream) {
      // Fastify already answered (e.g. a 504 after a timeout): a late token must not start a stream.
      if (this.reply.sent || this.reply.raw.headersSent) return;
      this.startedStream = true;
      // From here on this code, not fastify, writes the response.
      this.reply.hijack();
      this.reply.raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
    }
    if (this.open) this.reply.raw.write(text);
  }
}
