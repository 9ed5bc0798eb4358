// A plan's stages and what each takes from which, as text for the terminal and as a Mermaid flowchart for
// docs (`cai run FILE --graph`).
import type { PipelinePlan } from "./pipeline-plan.js";

/** One line per stage in the order they run: `id (kind) ← the stages it takes outputs from`. */
export function graphText(plan: PipelinePlan): string[] {
  const width = Math.max(...plan.stages.map((s) => `${s.id} (${s.kind})`.length));
  return plan.stages.map((s) => {
    const head = `${s.id} (${s.kind})`;
    return s.dependsOn.length === 0 ? head : `${head.padEnd(width)}  ← ${s.dependsOn.join(", ")}`;
  });
}

/** A Mermaid flowchart, top to bottom: a node per stage, an edge from each stage to each that takes its output. */
export function graphMermaid(plan: PipelinePlan): string {
  const node = (id: string) => `s_${id.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const lines = ["flowchart TD"];
  for (const s of plan.stages) lines.push(`  ${node(s.id)}["${s.id}<br/>${s.kind}"]`);
  for (const s of plan.stages) for (const d of s.dependsOn) lines.push(`  ${node(d)} --> ${node(s.id)}`);
  return `${lines.join("\n")}\n`;
}
