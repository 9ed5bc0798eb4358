// Elo ratings from pairwise comparisons, as LMSYS computes them: Bradley–Terry maximum likelihood on the
// Elo scale (P(A beats B) = 1 / (1 + 10^((R_B − R_A)/400))), a tie counting half a win for each side,
// anchored so one chosen model sits at a fixed rating, with seeded bootstrap 95% intervals.
//
// Written by hand (no npm library fits Bradley–Terry with ties, weights and a prior): the model count is
// small, so Newton's method on the full Hessian converges in a few exact steps. A weak Gaussian prior on
// the strengths (ridge) keeps the fit finite when a model wins every comparison — its rating is then a
// large but finite number whose bootstrap interval shows how little the data bound it.
import { CaiError } from "../errors/cai-error.js";
import { SeededRandom } from "../random/seeded-random.js";

/** One comparison between two models. */
export interface Comparison {
  /** Index of the first model. */
  readonly a: number;
  /** Index of the second model. */
  readonly b: number;
  /** 1: a won; 0: b won; 0.5: tie (any value in [0, 1] is a soft outcome). */
  readonly outcome: number;
  /** How much the comparison counts. Default 1. */
  readonly weight?: number;
}

/** Options of {@link fitBradleyTerry}. */
export interface BradleyTerryOptions {
  /** The model whose rating is fixed at `base`. Default 0. */
  readonly anchor?: number;
  /** The anchor's rating. Default 1000. */
  readonly base?: number;
  /**
   * Strength of the Gaussian prior on the natural-log strengths, λ in λ/2·Σθ² (0 = plain maximum
   * likelihood, which diverges when a model wins everything). Default 0.01.
   */
  readonly prior?: number;
}

/** The ratings of {@link fitBradleyTerry}. */
export interface BradleyTerryFit {
  /** One Elo-scale rating per model, the anchor at `base`. */
  readonly ratings: number[];
  /** Newton iterations used. */
  readonly iterations: number;
}

const eloPerNat = 400 / Math.log(10);

/** P(a beats b) for Elo ratings. */
export function winProbability(ratingA: number, ratingB: number): number {
  return 1 / (1 + 10 ** ((ratingB - ratingA) / 400));
}

function checkComparisons(models: number, comparisons: readonly Comparison[]): void {
  if (!Number.isInteger(models) || models < 2) throw new CaiError("a rating needs at least two models");
  for (const c of comparisons) {
    if (
      !(
        Number.isInteger(c.a) &&
        Number.isInteger(c.b) &&
        c.a >= 0 &&
        c.b >= 0 &&
        c.a < models &&
        c.b < models
      )
    )
      throw new CaiError(`a comparison names model ${c.a} or ${c.b}, outside 0…${models - 1}`);
    if (c.a === c.b) throw new CaiError(`a comparison of model ${c.a} with itself`);
    if (!(c.outcome >= 0 && c.outcome <= 1))
      throw new CaiError(`a comparison outcome must be in [0, 1], not ${c.outcome}`);
    if (c.weight !== undefined && !(c.weight >= 0))
      throw new CaiError(`a comparison weight must be ≥ 0, not ${c.weight}`);
  }
}

/** Solves the symmetric positive-definite system H·x = g (Cholesky). */
function solve(h: number[][], g: number[]): number[] {
  const n = g.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i += 1)
    for (let j = 0; j <= i; j += 1) {
      let sum = (h[i] as number[])[j] as number;
      for (let k = 0; k < j; k += 1)
        sum -= ((l[i] as number[])[k] as number) * ((l[j] as number[])[k] as number);
      (l[i] as number[])[j] =
        i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / ((l[j] as number[])[j] as number);
    }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i += 1) {
    let sum = g[i] as number;
    for (let k = 0; k < i; k += 1) sum -= ((l[i] as number[])[k] as number) * (y[k] as number);
    y[i] = sum / ((l[i] as number[])[i] as number);
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i -= 1) {
    let sum = y[i] as number;
    for (let k = i + 1; k < n; k += 1) sum -= ((l[k] as number[])[i] as number) * (x[k] as number);
    x[i] = sum / ((l[i] as number[])[i] as number);
  }
  return x;
}

/**
 * The Bradley–Terry maximum a-posteriori ratings of `models` models from `comparisons`: minimises
 * Σ w·BCE(outcome, σ(θ_a − θ_b)) + λ/2·Σθ², then reports R = base + (θ − θ_anchor)·400/ln 10.
 */
export function fitBradleyTerry(
  models: number,
  comparisons: readonly Comparison[],
  options: BradleyTerryOptions = {},
): BradleyTerryFit {
  checkComparisons(models, comparisons);
  const anchor = options.anchor ?? 0;
  const base = options.base ?? 1000;
  const prior = options.prior ?? 0.01;
  if (!(Number.isInteger(anchor) && anchor >= 0 && anchor < models))
    throw new CaiError(`the anchor model ${anchor} is outside 0…${models - 1}`);
  if (!(prior > 0)) throw new CaiError(`the prior must be positive, not ${prior}`);
  const theta = new Array<number>(models).fill(0);
  let iterations = 0;
  for (; iterations < 100; iterations += 1) {
    // Gradient and Hessian of the penalised negative log-likelihood.
    const gradient = theta.map((t) => prior * t);
    const hessian = Array.from({ length: models }, (_, i) =>
      Array.from({ length: models }, (_, j) => (i === j ? prior : 0)),
    );
    for (const c of comparisons) {
      const w = c.weight ?? 1;
      if (w === 0) continue;
      const p = 1 / (1 + Math.exp((theta[c.b] as number) - (theta[c.a] as number)));
      const g = w * (p - c.outcome);
      gradient[c.a] = (gradient[c.a] as number) + g;
      gradient[c.b] = (gradient[c.b] as number) - g;
      const curvature = w * p * (1 - p);
      const ha = hessian[c.a] as number[];
      const hb = hessian[c.b] as number[];
      ha[c.a] = (ha[c.a] as number) + curvature;
      hb[c.b] = (hb[c.b] as number) + curvature;
      ha[c.b] = (ha[c.b] as number) - curvature;
      hb[c.a] = (hb[c.a] as number) - curvature;
    }
    const step = solve(hessian, gradient);
    let largest = 0;
    for (let i = 0; i < models; i += 1) {
      theta[i] = (theta[i] as number) - (step[i] as number);
      largest = Math.max(largest, Math.abs(step[i] as number));
    }
    if (largest < 1e-10) break;
  }
  const origin = theta[anchor] as number;
  return { ratings: theta.map((t) => base + (t - origin) * eloPerNat), iterations: iterations + 1 };
}

/** Options of {@link bootstrapRatings}. */
export interface BootstrapOptions extends BradleyTerryOptions {
  /** Resamples. Default 1000. */
  readonly rounds?: number;
  /** Seed of the resampling. Default 0. */
  readonly seed?: number;
  /** Coverage of the interval. Default 0.95. */
  readonly confidence?: number;
}

/** Ratings with their bootstrap intervals. */
export interface RatedModels {
  /** The fit on all comparisons. */
  readonly ratings: number[];
  /** Per model, the [lower, upper] percentile interval of its rating over the resamples. */
  readonly intervals: Array<[number, number]>;
}

/** The `q` quantile of sorted `values` (linear interpolation between order statistics). */
function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] as number;
  return a + ((sorted[high] as number) - a) * (position - low);
}

/**
 * {@link fitBradleyTerry} on all comparisons, and percentile intervals from `rounds` seeded resamples of
 * the comparisons (with replacement, as many as there are), each refitted and anchored the same way.
 */
export function bootstrapRatings(
  models: number,
  comparisons: readonly Comparison[],
  options: BootstrapOptions = {},
): RatedModels {
  const rounds = options.rounds ?? 1000;
  const confidence = options.confidence ?? 0.95;
  if (!(Number.isInteger(rounds) && rounds >= 1))
    throw new CaiError(`bootstrap rounds must be ≥ 1, not ${rounds}`);
  if (!(confidence > 0 && confidence < 1))
    throw new CaiError(`confidence must be in (0, 1), not ${confidence}`);
  if (comparisons.length === 0) throw new CaiError("ratings need at least one comparison");
  const { ratings } = fitBradleyTerry(models, comparisons, options);
  const random = new SeededRandom(options.seed ?? 0);
  const samples: number[][] = Array.from({ length: models }, () => []);
  for (let round = 0; round < rounds; round += 1) {
    const resample = Array.from(
      { length: comparisons.length },
      () => comparisons[random.int(comparisons.length)] as Comparison,
    );
    const fit = fitBradleyTerry(models, resample, options);
    fit.ratings.forEach((r, i) => {
      (samples[i] as number[]).push(r);
    });
  }
  const tail = (1 - confidence) / 2;
  const intervals = samples.map((values): [number, number] => {
    const sorted = [...values].sort((x, y) => x - y);
    return [quantile(sorted, tail), quantile(sorted, 1 - tail)];
  });
  return { ratings, intervals };
}
