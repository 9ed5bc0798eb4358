// Field paths users type to point into JSON records (`conversation.0.content`), and the lookup of the
// value at such a path.

/** One step of a field path: an object key or an array index. */
export type FieldPathSegment = string | number;

/**
 * Parses a dotted path with optional array indices: `messages`, `conversation.0.content` or
 * `conversation[0].content` all work; a segment of digits is an array index.
 */
export function parseFieldPath(text: string): FieldPathSegment[] {
  const segments = text
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter((segment) => segment !== "");
  if (segments.length === 0) throw new Error(`empty field path "${text}"`);
  return segments.map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/** The value at a path, if every step of it exists. */
export type FieldLookup = { found: true; value: unknown } | { found: false };

/** Looks `path` up in a parsed JSON value: numeric segments index arrays, others read own object keys. */
export function valueAtPath(value: unknown, path: readonly FieldPathSegment[]): FieldLookup {
  let current = value;
  for (const segment of path) {
    const next =
      Array.isArray(current) && typeof segment === "number"
        ? current[segment]
        : typeof current === "object" && current !== null && Object.hasOwn(current, segment)
          ? (current as Record<string, unknown>)[String(segment)]
          : undefined;
    if (next === undefined) return { found: false };
    current = next;
  }
  return { found: true, value: current };
}
