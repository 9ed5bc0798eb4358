import { describe, expect, it } from "vitest";
import { parseFieldPath, valueAtPath } from "./field-path.js";

describe("field paths", () => {
  it("parse dotted and bracketed paths", () => {
    expect(parseFieldPath("conversation.0.content")).toEqual(["conversation", 0, "content"]);
    expect(parseFieldPath("conversation[0].content")).toEqual(["conversation", 0, "content"]);
    expect(() => parseFieldPath(".")).toThrow(/empty field path/);
  });

  it("look values up, own keys only", () => {
    const value = { conversation: [{ content: "hi" }], toString: undefined };
    expect(valueAtPath(value, ["conversation", 0, "content"])).toEqual({ found: true, value: "hi" });
    expect(valueAtPath(value, ["conversation", 1, "content"])).toEqual({ found: false });
    expect(valueAtPath({}, ["constructor"])).toEqual({ found: false });
    expect(valueAtPath("text", ["length"])).toEqual({ found: false });
  });
});
