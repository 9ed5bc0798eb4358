// Turns zod's validation issues into messages a person editing a YAML file understands ("expected a
// string, got the number 1.0: put it in quotes") and picks the issue that points closest to the mistake.
import type { z } from "zod";

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

const typeNames: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a map of fields (key: value)",
  null: "nothing (null)",
};

/** How a value found in a file reads in a message. */
export function describeValue(value: unknown): string {
  if (value === null) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === "number" || typeof value === "boolean")
    return `${typeof value === "number" ? "the number " : ""}${value}`;
  if (typeof value === "object") return "a map of fields";
  return typeof value;
}

/** A zod error map: the message for each kind of issue, in the words of a file's author. */
export function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return "required field is missing";
      const expected = typeNames[issue.expected] ?? issue.expected;
      const quote =
        issue.expected === "string" && (typeof issue.input === "number" || typeof issue.input === "boolean")
          ? ": put it in quotes"
          : "";
      return `expected ${expected}, got ${describeValue(issue.input)}${quote}`;
    }
    case "too_small":
      if (issue.origin === "array")
        return `needs at least ${issue.minimum} item${Number(issue.minimum) === 1 ? "" : "s"}`;
      if (issue.origin === "string") return "must not be empty";
      return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}`;
    case "too_big":
      return `must be at most ${issue.maximum}${issue.origin === "array" ? " items" : ""}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(issue.input)}`;
    case "unrecognized_keys": {
      const key = issue.keys[0] ?? "";
      const known = knownKeys(issue.inst);
      const near = closest(key, known);
      const hint = near
        ? ` (did you mean "${near}"?)`
        : known.length
          ? ` (expected one of: ${known.join(", ")})`
          : "";
      return `unknown field "${key}"${hint}`;
    }
    default:
      return undefined;
  }
}

/** The field names of the object schema that reported an unknown key. */
function knownKeys(schema: unknown): string[] {
  const shape = (schema as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def
    ?.shape;
  return shape ? Object.keys(shape) : [];
}

/** The known name a misspelt `name` most likely meant, if one is close enough. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(name.length / 2)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The issue to report, of all zod found: the first, except that a missing field whose object also has
 * an unknown field is reported as the unknown field — most often it is the missing one, misspelt.
 */
export function issueToReport(issues: readonly Issue[]): Issue | undefined {
  const [first] = issues;
  if (first?.code !== "invalid_type" || first.input !== undefined) return first;
  const parent = JSON.stringify(first.path.slice(0, -1));
  return issues.find((i) => i.code === "unrecognized_keys" && JSON.stringify(i.path) === parent) ?? first;
}

/**
 * For a union that matched no branch (a prompt that is neither a string nor a list of messages), the
 * issue inside the one branch whose type matched — "principles[0].prompt[1].role: expected one of …"
 * says more than "expected a string or a list". Other issues are returned as they are.
 */
export function mostSpecificIssue(
  issue: Issue,
  prefix: readonly PropertyKey[] = [],
): {
  issue: Issue;
  path: PropertyKey[];
} {
  const path = [...prefix, ...issue.path];
  if (issue.code !== "invalid_union") return { issue, path };
  const typeMatched = issue.errors.filter(
    (branch) => !branch.some((inner) => inner.code === "invalid_type" && inner.path.length === 0),
  );
  const inner = typeMatched.length === 1 ? typeMatched[0]?.[0] : undefined;
  return inner ? mostSpecificIssue(inner, path) : { issue, path };
}
