// Where JSON text stops being JSON, and why, in words a person can act on ("trailing comma", "comments
// are not JSON"). Node 20's JSON.parse often gives no position ("Unexpected token ']'"), so the place comes
// from jsonc-parser (VS Code's JSON scanner) run in strict mode: no trailing commas, no comments.
import { type ParseError, parse, printParseErrorCode } from "jsonc-parser";

/** The first syntax problem of a JSON text: a sentence and the 0-based offset it points at. */
export interface JsonSyntaxProblem {
  problem: string;
  offset: number;
}

const problems: Record<string, string> = {
  InvalidSymbol: "unexpected character (strings and names need double quotes)",
  InvalidNumberFormat: "not a valid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected a colon after the property name",
  CommaExpected: "expected a comma",
  CloseBraceExpected: "expected a comma or }",
  CloseBracketExpected: "expected a comma or ]",
  EndOfFileExpected: "unexpected text after the JSON value",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "a comment is not closed (and comments are not allowed in JSON)",
  UnexpectedEndOfString: "a string is not closed",
  UnexpectedEndOfNumber: "a number is cut short",
  InvalidUnicode: "invalid \\u escape",
  InvalidEscapeCharacter: "invalid escape in a string",
  InvalidCharacter: "a control character (such as a raw line break or tab) inside a string",
};

/** The first syntax problem of `text` as strict JSON, or undefined when it is valid JSON. */
export function jsonSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return undefined;
  const code = printParseErrorCode(first.error);
  const before = text.slice(0, first.offset).trimEnd();
  // A comma right before a closing bracket or a missing name: the error a trailing comma makes.
  const trailing =
    before.endsWith(",") &&
    /^\s*[\]}]/.test(text.slice(first.offset)) &&
    (code === "ValueExpected" || code === "PropertyNameExpected");
  if (trailing) return { problem: "trailing comma", offset: before.length - 1 };
  if (text.trim() === "") return { problem: "no JSON value: the text is empty", offset: 0 };
  return { problem: problems[code] ?? code, offset: first.offset };
}

/** 1-based line and column of `offset` in `text` (columns count UTF-16 units, as editors mostly do). */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}
