// The base error class of cai: every error thrown on purpose extends it.
const marker = Symbol.for("cai.error");

/** Base class of every error cai throws on purpose: a stable `name`, a message that says what to do. */
export class CaiError extends Error {
  override readonly name: string = "CaiError";
  readonly [marker] = true as const;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }

  /** True for any CaiError, also across duplicated module instances (checks the marker, not the prototype). */
  static isInstance(value: unknown): value is CaiError {
    return typeof value === "object" && value !== null && (value as { [marker]?: true })[marker] === true;
  }
}
