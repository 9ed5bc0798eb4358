// The terminal labeller: shows each unanswered comparison of a queue and records the person's key —
// a: (A) is better, b: (B) is better, t: tie, s: skip, q: quit — appending every answer at once, so
// quitting (or a crash) keeps what was given and the next session starts at the first unanswered item.
import { emitKeypressEvents } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { renderConversation } from "../../constitution/templates.js";
import {
  appendAnswer,
  type HumanAnswer,
  type HumanQueueItem,
  pendingItems,
  readAnswers,
  readQueue,
} from "./human-queue.js";

/** Options of {@link labelInTerminal}. */
export interface TerminalLabellerOptions {
  readonly queueFile: string;
  readonly answersFile: string;
  /** Keys come from here: single keypresses on a TTY, else the first letter of each line. */
  readonly input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly output: Writable;
  /** Time of an answer (for tests). Default: now. */
  readonly now?: () => Date;
}

/** What a session did. */
export interface LabellingSession {
  readonly answered: number;
  /** Items still unanswered when the session ended. */
  readonly remaining: number;
  readonly quit: boolean;
}

const verdicts: Readonly<Record<string, HumanAnswer["verdict"]>> = { a: "A", b: "B", t: "tie", s: "skip" };

/** The text shown for one item. */
export function formatItem(item: HumanQueueItem, position: number, total: number): string {
  return [
    "",
    `── ${position}/${total} · ${item.axis} ──`,
    item.question,
    "",
    renderConversation(item.prompt),
    "",
    `(A) ${item.a.text}`,
    "",
    `(B) ${item.b.text}`,
    "",
    "[a] A is better  [b] B is better  [t] tie  [s] skip  [q] quit",
  ].join("\n");
}

/** Reads keys one at a time from a TTY (raw mode) or line by line from anything else. */
function keyReader(input: TerminalLabellerOptions["input"]): {
  next(): Promise<string | undefined>;
  close(): void;
} {
  const queue: string[] = [];
  let waiting: ((key: string | undefined) => void) | undefined;
  let ended = false;
  const push = (key: string | undefined) => {
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve(key);
    } else if (key !== undefined) queue.push(key);
  };
  const onEnd = () => {
    ended = true;
    push(undefined);
  };
  let onData: (chunk: Buffer | string) => void;
  let onKeypress: ((text: string | undefined, key: { name?: string; ctrl?: boolean }) => void) | undefined;
  if (input.isTTY && input.setRawMode) {
    emitKeypressEvents(input);
    input.setRawMode(true);
    onKeypress = (text, key) =>
      push(key.ctrl && key.name === "c" ? "q" : (text ?? key.name ?? "").toLowerCase());
    input.on("keypress", onKeypress);
    onData = () => {};
  } else {
    let buffered = "";
    onData = (chunk) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        push(buffered.slice(0, newline).trim().charAt(0).toLowerCase());
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
      }
    };
    input.on("data", onData);
  }
  input.on("end", onEnd);
  input.resume();
  return {
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift())
        : ended
          ? Promise.resolve(undefined)
          : new Promise((resolve) => {
              waiting = resolve;
            }),
    close: () => {
      input.off("data", onData);
      input.off("end", onEnd);
      if (onKeypress) input.off("keypress", onKeypress);
      if (input.isTTY && input.setRawMode) input.setRawMode(false);
      input.pause();
    },
  };
}

/** Runs a labelling session over the unanswered items of the queue. */
export async function labelInTerminal(options: TerminalLabellerOptions): Promise<LabellingSession> {
  const items = await readQueue(options.queueFile);
  const pending = pendingItems(items, await readAnswers(options.answersFile));
  const keys = keyReader(options.input);
  let answered = 0;
  let quit = false;
  try {
    for (const [index, item] of pending.entries()) {
      options.output.write(`${formatItem(item, items.length - pending.length + index + 1, items.length)}\n`);
      let verdict: HumanAnswer["verdict"] | undefined;
      while (verdict === undefined) {
        const key = await keys.next();
        if (key === undefined || key === "q") {
          quit = true;
          break;
        }
        verdict = verdicts[key];
        if (verdict === undefined) options.output.write("press a, b, t, s or q\n");
      }
      if (verdict === undefined) break;
      await appendAnswer(options.answersFile, {
        id: item.id,
        verdict,
        at: (options.now?.() ?? new Date()).toISOString(),
      });
      answered += 1;
    }
  } finally {
    keys.close();
  }
  return { answered, remaining: pending.length - answered, quit };
}
