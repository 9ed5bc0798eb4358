// What the evaluation report shows, as one plain value: the contestants, their helpfulness and
// harmlessness Elo with bootstrap intervals, the absolute rates, the judge's position consistency and a few
// judged pairs. `cai eval` fills it; `report.json` stores it, so a report can be drawn again from the file.
import { z } from "zod";
import { readStructuredFile, validateStructured } from "../../io/structured-file.js";
import type { EvalAxis } from "../rubrics.js";

/** The two axes of the evaluation, in the order the report shows them. */
export const reportAxes: readonly EvalAxis[] = ["helpfulness", "harmlessness"];

/** A contestant of the tournament. */
export interface ReportModel {
  /** Short unique name used in the chart and tables (e.g. `base`, `sl-cai`). */
  readonly name: string;
  /** The model spec string it was loaded from (e.g. `llama:./base.gguf+./adapter.safetensors`). */
  readonly spec: string;
  /** The model the ratings are anchored to (exactly one per report). */
  readonly baseline: boolean;
}

/** One model's rating on one axis. NaN (null in JSON) when the axis had no comparisons. */
export interface ModelRating {
  /** A {@link ReportModel.name}. */
  readonly model: string;
  /** Elo-scale Bradley–Terry rating. */
  readonly elo: number;
  /** The bootstrap interval [low, high] (95% unless {@link ReportRunInfo.confidence} says otherwise). */
  readonly interval: readonly [number, number];
  /** Comparisons this model took part in. */
  readonly comparisons: number;
}

/** The ratings of one axis. */
export interface AxisReport {
  /** One rating per model, in {@link EvalReportData.models} order. */
  readonly ratings: readonly ModelRating[];
  /** Comparisons (pairs judged in both orders) behind the ratings. */
  readonly comparisons: number;
  /** Share of those pairs whose two orders picked the same response (NaN / null when none). */
  readonly positionConsistency: number;
}

/** A share of responses the judge classified as yes. */
export interface ReportRate {
  /** Share with P(yes) > 0.5; NaN (null in JSON) when `n` is 0. */
  readonly rate: number;
  /** Mean P(yes), the soft rate; NaN (null in JSON) when `n` is 0. */
  readonly meanProbability: number;
  /** Responses classified. */
  readonly n: number;
}

/** The absolute rates of one model. */
export interface ModelRates {
  readonly model: string;
  /** Refusals of benign (helpfulness) prompts: lower is better. */
  readonly overRefusal: ReportRate;
  /** Real help with red-team prompts: lower is better. */
  readonly harmfulCompliance: ReportRate;
}

/** One judged pair shown as an example. */
export interface SamplePair {
  readonly axis: EvalAxis;
  /** The prompt as the person wrote it (a rendered conversation for multi-turn prompts). */
  readonly prompt: string;
  readonly first: { readonly model: string; readonly response: string };
  readonly second: { readonly model: string; readonly response: string };
  /** P(first is better), averaged over both orders. */
  readonly pFirst: number;
  /** The outcome counted in the ratings. */
  readonly verdict: "first" | "second" | "tie";
  /** Whether both orders preferred the same response. */
  readonly consistent: boolean;
  /** The judge's chain-of-thought, when it judged in that mode. */
  readonly reasoning?: string | undefined;
}

/** How the tournament was run. */
export interface ReportRunInfo {
  /** The judge's model spec. */
  readonly judge: string;
  readonly seed: number;
  /** When the ratings were computed (ISO 8601); the header shows it to the minute, in UTC. */
  readonly date: string;
  /** Held-out prompts per kind. */
  readonly prompts: { readonly helpful: number; readonly redTeam: number };
  readonly bootstrapRounds: number;
  /** Coverage of the rating intervals, 0.95 by default. */
  readonly confidence: number;
  /** The baseline's rating on both axes. */
  readonly baseRating: number;
}

/** A cell of a {@link ReportTable}: text, a number, or null for nothing measured. */
export type ReportTableCell = string | number | null;

/**
 * An extra table the report shows as given (e.g. a model organism's own measures): after the rates, or,
 * when it is the result the report leads with, first.
 */
export interface ReportTable {
  readonly title: string;
  /** Shown first, under the header and before the frontier: the report's result. Default: after the rates. */
  readonly lead?: boolean | undefined;
  /** A sentence shown under the title, saying what the table holds. */
  readonly note?: string | undefined;
  readonly columns: readonly string[];
  /** Each row has exactly one cell per column. */
  readonly rows: ReadonlyArray<ReadonlyArray<ReportTableCell>>;
}

/** Ratings of the same contestants from a second, exact judge (e.g. a model organism's ground truth). */
export interface GroundTruthReport {
  /** What judged: shown in the chart's title and above its table. */
  readonly judge: string;
  readonly axes: Readonly<Record<EvalAxis, AxisReport>>;
}

/** Everything the evaluation report shows; `report.json` holds exactly this. */
export interface EvalReportData {
  readonly version: 1;
  readonly run: ReportRunInfo;
  readonly models: readonly ReportModel[];
  readonly axes: Readonly<Record<EvalAxis, AxisReport>>;
  /** One entry per model, in {@link models} order. */
  readonly rates: readonly ModelRates[];
  readonly samples: readonly SamplePair[];
  /**
   * Ratings from a person's judgments of the same tournament (`cai judge`), reported beside the judge
   * model's, never mixed into them. Absent when nobody judged.
   */
  readonly human?: {
    readonly answers: number;
    readonly axes: Readonly<Record<EvalAxis, AxisReport>>;
  };
  /**
   * Ratings of the same contestants from a second, exact judge, drawn as a second frontier and reported
   * beside the judge model's, never mixed into them. Absent when there is no such judge.
   */
  readonly groundTruth?: GroundTruthReport;
  /** Extra tables, shown after the rates (those marked `lead` first). Absent (or empty) for none. */
  readonly tables?: readonly ReportTable[];
  /** Extra charts (e.g. training curves), shown after the extra tables. Absent (or empty) for none. */
  readonly figures?: readonly ReportFigure[];
}

/** A chart of the report beyond the frontier: a standalone SVG document with a title and a note. */
export interface ReportFigure {
  readonly title: string;
  readonly note?: string | undefined;
  readonly svg: string;
}

/** A number that JSON may hold as null when it was not measured (JSON.stringify writes NaN as null). */
const measured = z.union([z.number(), z.null().transform(() => Number.NaN)]);
const count = z.number().int().nonnegative();
const axis = z.enum(["helpfulness", "harmlessness"]);

const rateSchema = z.strictObject({ rate: measured, meanProbability: measured, n: count });
const axisSchema = z.strictObject({
  ratings: z.array(
    z.strictObject({
      model: z.string(),
      elo: measured,
      interval: z.tuple([measured, measured]),
      comparisons: count,
    }),
  ),
  comparisons: count,
  positionConsistency: measured,
});
const axesSchema = z.strictObject({ helpfulness: axisSchema, harmlessness: axisSchema });
const responseSchema = z.strictObject({ model: z.string(), response: z.string() });
const tableSchema = z.strictObject({
  title: z.string(),
  lead: z.boolean().optional(),
  note: z.string().optional(),
  columns: z.array(z.string()).min(1),
  rows: z.array(z.array(z.union([z.string(), z.number(), z.null()]))),
});

/** The zod schema of `report.json`; also checks that every model name refers to a listed model. */
export const evalReportSchema = z
  .strictObject({
    version: z.literal(1),
    run: z.strictObject({
      judge: z.string(),
      seed: z.number(),
      date: z.string(),
      prompts: z.strictObject({ helpful: count, redTeam: count }),
      bootstrapRounds: count,
      confidence: z.number().gt(0).lt(1),
      baseRating: z.number(),
    }),
    models: z
      .array(z.strictObject({ name: z.string().min(1), spec: z.string(), baseline: z.boolean() }))
      .min(1),
    axes: axesSchema,
    rates: z.array(
      z.strictObject({ model: z.string(), overRefusal: rateSchema, harmfulCompliance: rateSchema }),
    ),
    samples: z.array(
      z.strictObject({
        axis,
        prompt: z.string(),
        first: responseSchema,
        second: responseSchema,
        pFirst: z.number().min(0).max(1),
        verdict: z.enum(["first", "second", "tie"]),
        consistent: z.boolean(),
        reasoning: z.string().optional(),
      }),
    ),
    human: z
      .strictObject({
        answers: count,
        axes: axesSchema,
      })
      .optional(),
    groundTruth: z.strictObject({ judge: z.string(), axes: axesSchema }).optional(),
    tables: z.array(tableSchema).optional(),
    figures: z
      .array(z.strictObject({ title: z.string(), note: z.string().optional(), svg: z.string() }))
      .optional(),
  })
  .superRefine((report, context) => {
    const names = report.models.map((m) => m.name);
    const problem = (message: string, path: PropertyKey[]) =>
      context.addIssue({ code: "custom", message, path });
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) problem(`the model name "${name}" is used twice`, ["models", i, "name"]);
    });
    if (report.models.filter((m) => m.baseline).length !== 1)
      problem("exactly one model must be the baseline", ["models"]);
    const sameModels = (listed: readonly { model: string }[], path: PropertyKey[]) => {
      if (listed.length !== names.length || listed.some((entry, i) => entry.model !== names[i]))
        problem(`must list the models in order: ${names.join(", ")}`, path);
    };
    for (const name of reportAxes) sameModels(report.axes[name].ratings, ["axes", name, "ratings"]);
    if (report.human)
      for (const name of reportAxes)
        sameModels(report.human.axes[name].ratings, ["human", "axes", name, "ratings"]);
    if (report.groundTruth)
      for (const name of reportAxes)
        sameModels(report.groundTruth.axes[name].ratings, ["groundTruth", "axes", name, "ratings"]);
    report.tables?.forEach((table, t) => {
      table.rows.forEach((row, r) => {
        if (row.length !== table.columns.length)
          problem(
            `row ${r + 1} of the table "${table.title}" has ${row.length} cells, but the table has ${table.columns.length} columns`,
            ["tables", t, "rows", r],
          );
      });
    });
    sameModels(report.rates, ["rates"]);
    report.samples.forEach((sample, i) => {
      for (const side of ["first", "second"] as const)
        if (!names.includes(sample[side].model))
          problem(`names the model "${sample[side].model}", which is not in models`, ["samples", i, side]);
    });
  });

// The schema's output must be an EvalReportData (checked by the compiler, not at run time).
const schemaOutputIsReportData: z.ZodType<EvalReportData> = evalReportSchema;
void schemaOutputIsReportData;

/** Reads and validates a saved `report.json`; a problem is an InputFileError naming the field. */
export async function readReportData(file: string): Promise<EvalReportData> {
  return validateStructured(await readStructuredFile(file), evalReportSchema);
}

/** The baseline model (the schema guarantees there is one). */
export function baselineOf(data: EvalReportData): ReportModel {
  const baseline = data.models.find((m) => m.baseline);
  if (!baseline) throw new RangeError("the report has no baseline model");
  return baseline;
}

/** The judge's short name: the contestant's name when the judge is also a contestant, else its spec. */
export function judgeName(data: EvalReportData): string {
  return data.models.find((model) => model.spec === data.run.judge)?.name ?? data.run.judge;
}
