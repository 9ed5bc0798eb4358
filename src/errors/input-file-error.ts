// Thrown when a file the user gave (constitution, prompt set, config) cannot be used: names the file,
// the place in it and the field, so the fix is obvious. The CLI exits with code 2 for these.
import { CaiError } from "./cai-error.js";

/** Where in a file a problem is (1-based line and column). */
export interface FilePlace {
  line?: number;
  column?: number;
  /** Path of the offending field, e.g. `principles[3].critique`. */
  field?: string;
}

/** A user's input file that is malformed: bad syntax, a missing field, a wrong type, an empty set. */
export class InputFileError extends CaiError {
  override readonly name = "InputFileError";
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string | undefined;

  constructor(
    readonly file: string,
    readonly problem: string,
    place: FilePlace = {},
    options?: ErrorOptions,
  ) {
    const where =
      place.line === undefined ? "" : `:${place.line}${place.column === undefined ? "" : `:${place.column}`}`;
    const field = place.field ? ` (${place.field})` : "";
    super(`${file}${where}${field}: ${problem}`, options);
    this.line = place.line;
    this.column = place.column;
    this.field = place.field;
  }

  static override isInstance(value: unknown): value is InputFileError {
    return CaiError.isInstance(value) && value.name === "InputFileError";
  }
}
