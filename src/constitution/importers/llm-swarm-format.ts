// Imports Hugging Face's llm-swarm `constitution.json`: `{ constitutions: [{ critic, revision }],
// system_chat: [[{ role, content }, …]] }` — principles, and worked conversations as few-shot examples.
import { z } from "zod";
import { type StructuredFile, validateStructured } from "../../io/structured-file.js";
import type { ChatMessage } from "../../models/model.js";
import type { CritiquePrinciple } from "../constitution-schema.js";
import type { ImportedParts } from "./imported-parts.js";

const nonBlank = z.string().regex(/\S/, { error: "must not be empty" });

const swarmFile = z.object({
  constitutions: z.array(z.object({ critic: nonBlank, revision: nonBlank })).min(1, {
    error: "the file has no constitutions (principles)",
  }),
  system_chat: z.array(z.array(z.object({ role: z.string(), content: z.string() }))).optional(),
});

type SwarmMessage = { role: string; content: string };
type CritiqueExample = NonNullable<ImportedParts["critiqueExamples"]>[number];

/** True when `value` looks like an llm-swarm constitution file. */
export function looksLikeLlmSwarm(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "constitutions" in value;
}

/**
 * The principles (`principle-1`, `principle-2`, … in order) and few-shot examples of an llm-swarm file.
 * A `system_chat` conversation becomes an example when it ends with the six turns user prompt →
 * assistant draft → user critique request → assistant critique → user revision request → assistant
 * revision; earlier turns (a system message, an earlier exchange) become part of the example's prompt.
 * The example names the principle whose critique and revision requests match its own (trimmed), or
 * else keeps its requests as `critiqueRequest` / `revisionRequest`. Conversations of any other shape,
 * or with an empty turn, are skipped with a warning. Texts are trimmed.
 */
export function importLlmSwarm(source: StructuredFile): ImportedParts {
  const file = validateStructured(source, swarmFile);
  const principles = file.constitutions.map((p, index) => ({
    id: `principle-${index + 1}`,
    critique: p.critic.trim(),
    revision: p.revision.trim(),
  }));
  const warnings: string[] = [];
  const critiqueExamples = (file.system_chat ?? []).flatMap((chat, index) => {
    const example = exampleOf(chat, principles);
    if (typeof example === "string") {
      warnings.push(`system_chat[${index}] skipped: ${example}`);
      return [];
    }
    return [example];
  });
  return { principles, critiqueExamples, warnings };
}

const exampleRoles = ["user", "assistant", "user", "assistant", "user", "assistant"];
const chatRoles = new Set(["system", "user", "assistant"]);

/** The example a conversation makes, or why it cannot make one. */
function exampleOf(
  chat: SwarmMessage[],
  principles: ReadonlyArray<Pick<CritiquePrinciple, "id" | "critique" | "revision">>,
): CritiqueExample | string {
  const tail = chat.slice(-6);
  if (chat.length < 6 || tail.some((message, i) => message.role !== exampleRoles[i]))
    return `expected it to end with the turns ${exampleRoles.join(" → ")}, got ${chat.map((m) => m.role).join(" → ") || "no turns"}`;
  const unknownRole = chat.find((message) => !chatRoles.has(message.role));
  if (unknownRole) return `unknown role "${unknownRole.role}"`;
  if (chat.some((message) => !/\S/.test(message.content))) return "a turn is empty";
  const text = (i: number) => (tail[i]?.content ?? "").trim();
  const promptMessages: ChatMessage[] = chat
    .slice(0, -5)
    .map((m) => ({ role: m.role as ChatMessage["role"], content: m.content.trim() }));
  const [first] = promptMessages;
  const critiqueRequest = text(2);
  const revisionRequest = text(4);
  const principle = principles.find((p) => p.critique === critiqueRequest && p.revision === revisionRequest);
  return {
    prompt: promptMessages.length === 1 && first ? first.content : promptMessages,
    response: text(1),
    ...(principle ? { principle: principle.id } : { critiqueRequest, revisionRequest }),
    critique: text(3),
    revision: text(5),
  };
}
