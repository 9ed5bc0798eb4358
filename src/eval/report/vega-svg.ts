// A vega-lite chart rendered to a standalone SVG document in Node (no browser, no canvas): the report's
// charts are declared in vega-lite and embedded as SVG.
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Renders `spec` to SVG. */
export async function vegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
