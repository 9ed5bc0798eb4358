// How the request schemas treat fields of the OpenAI and Anthropic APIs that cai does not implement: each
// is refused by name with the reason (a 400 whose `param` is the field), unless its value asks for
// nothing cai leaves undone (`tools: []`, `frequency_penalty: 0`, `store: false`); fields that only
// steer the provider's own bookkeeping (`user`, `metadata`, cache hints) are accepted and have no effect.
import { z } from "zod";

/**
 * A field cai does not implement: absent, `null`, or a value `vacuous` accepts (one that asks for
 * nothing) passes; anything else is refused with `reason`.
 */
export function refused(reason: string, vacuous: (value: unknown) => boolean = () => false) {
  return z
    .unknown()
    .refine((value) => value === undefined || value === null || vacuous(value), {
      error: reason,
      params: { unsupported: true },
    })
    .optional();
}

/** A field that only tells the provider something about its own bookkeeping: accepted, no effect here. */
export function bookkeeping() {
  return z.unknown().optional();
}

/** Vacuous when the value is one of `values`. */
export const oneOf =
  (...values: readonly unknown[]) =>
  (value: unknown): boolean =>
    values.includes(value);

/** Vacuous when the value is an empty array. */
export const emptyArray = (value: unknown): boolean => Array.isArray(value) && value.length === 0;

/** Vacuous when the value is an empty object. */
export const emptyObject = (value: unknown): boolean =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
