// Turns the growing text of a generation into streamed deltas, cutting it at the first stop string and
// holding back what might still become one (or half of a UTF-8 character) until it is certain.

/** Tracks generated text against stop strings and emits only text that is final. */
export class TextStream {
  private text = "";
  private emitted = 0;
  private stopped = false;

  constructor(
    private readonly stop: readonly string[],
    private readonly onText?: (delta: string) => void,
  ) {}

  /** Takes the whole text so far; returns true once a stop string has appeared (the text ends before it). */
  update(text: string): boolean {
    if (this.stopped) return true;
    let cut = -1;
    for (const s of this.stop) {
      const at = s ? text.indexOf(s) : -1;
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.text = text.slice(0, cut);
      this.stopped = true;
      this.emit(this.text.length);
      return true;
    }
    this.text = text;
    this.emit(text.length - this.heldBack(text));
    return false;
  }

  /** The final text; emits whatever was held back. */
  finish(): string {
    this.emit(this.text.length);
    return this.text;
  }

  /** Characters at the end of `text` that may be the start of a stop string or an unfinished character. */
  private heldBack(text: string): number {
    let hold = text.endsWith("\uFFFD") ? 1 : 0;
    for (const s of this.stop) {
      for (let n = Math.min(s.length - 1, text.length); n > hold; n -= 1) {
        if (text.endsWith(s.slice(0, n))) {
          hold = n;
          break;
        }
      }
    }
    return hold;
  }

  private emit(upTo: number): void {
    if (upTo > this.emitted) {
      this.onText?.(this.text.slice(this.emitted, upTo));
      this.emitted = upTo;
    }
  }
}
