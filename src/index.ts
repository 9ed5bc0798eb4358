// cai's public library API: the model contract and its backends, the call cache, GGUF tools, the
// OpenAI-compatible server, constitutions and prompt data, training (SFT, DPO, preference models, RL), and
// RL-CAI data and evaluation (responses, AI feedback labels, the tournament and its report).
export * from "./constitution/index.js";
export * from "./data/index.js";
export { CaiError } from "./errors/cai-error.js";
export { type FilePlace, InputFileError } from "./errors/input-file-error.js";
export {
  type BootstrapOptions,
  bootstrapRatings,
  type Comparison,
  fitBradleyTerry,
} from "./eval/bradley-terry.js";
export { evalReportData } from "./eval/eval-report.js";
export type { EvalReportData } from "./eval/report/report-data.js";
export { writeReport } from "./eval/report/report-html.js";
export { type EvalPrompt, runEval, tournamentResults } from "./eval/run-eval.js";
export * from "./gguf/index.js";
export { type MakeRandomLoraOptions, makeRandomLora } from "./gguf/test-models/make-lora.js";
export { type MakeTestModelOptions, makeTestModel } from "./gguf/test-models/make-model.js";
export { type ModelPreset, type PresetName, presetNames, presets } from "./gguf/test-models/presets.js";
export {
  AnthropicLanguageModel,
  type AnthropicModelOptions,
} from "./models/anthropic/anthropic-language-model.js";
export { isDeterministic, withCallCache } from "./models/cache/cached-model.js";
export { CallCache, type CallCacheStats } from "./models/cache/call-cache.js";
export { type CreateModelOptions, createModel } from "./models/create-model.js";
export { InvalidRequestError } from "./models/errors/invalid-request-error.js";
export { ModelAbortedError } from "./models/errors/model-aborted-error.js";
export { ModelCallError } from "./models/errors/model-call-error.js";
export { ModelLoadError } from "./models/errors/model-load-error.js";
export { ModelSpecError } from "./models/errors/model-spec-error.js";
export { ModelTimeoutError } from "./models/errors/model-timeout-error.js";
export { UnsupportedCapabilityError } from "./models/errors/unsupported-capability-error.js";
export {
  type LlamaAdapter,
  LlamaLanguageModel,
  type LlamaModelOptions,
} from "./models/llama/llama-language-model.js";
export type * from "./models/model.js";
export { OpenAILanguageModel, type OpenAIModelOptions } from "./models/openai/openai-language-model.js";
export { normaliseLogprobs } from "./models/scoring.js";
export { type ModelSpec, parseModelSpec } from "./models/spec.js";
export {
  type DemoOptions,
  type DemoSizes,
  type DemoSummary,
  demoSizes,
  runDemo,
} from "./organism/demo/run-demo.js";
export { classifyTruth, truthPreference } from "./organism/ground-truth.js";
export { shippedOrganisms } from "./organism/shipped.js";
export { SeededRandom } from "./random/seeded-random.js";
export { type RunningServer, type ServeOptions, startServer } from "./serve/index.js";
export { ensembleJudgment } from "./stages/label/ensemble-judgment.js";
export { type JudgmentContext, judgePair, type PairwiseJudgment } from "./stages/label/pairwise-judgment.js";
export { type LabelPair, labelledRows, runLabel } from "./stages/label/run-label.js";
export { type ResponsesRow, readResponsesFile } from "./stages/respond/responses-file.js";
export { respondRecords, runRespond } from "./stages/respond/run-respond.js";
export { type PreferenceRow, readPreferenceRows } from "./train/data/preference-data.js";
export { CheckpointMismatchError } from "./train/loop/checkpoint-mismatch-error.js";
export type { TrainProgress } from "./train/loop/train-loop.js";
export type { TrainRunOptions } from "./train/loop/training-run.js";
export {
  type AdvantageEstimator,
  grpoAdvantages,
  rlooAdvantages,
} from "./train/objectives/policy-gradient.js";
export type { RewardModel } from "./train/reward/load-reward-model.js";
export { createRewardModel, parseRewardSpec, type RewardSpec } from "./train/reward/reward-spec.js";
export {
  type TrainRewardModelOptions,
  type TrainRewardModelResult,
  trainRewardModel,
} from "./train/reward/train-rm.js";
export {
  type AnswerReward,
  functionRewardSource,
  type JudgeRewardOptions,
  judgeRewardSource,
  type RewardSource,
  rewardModelSource,
} from "./train/rl/reward-source.js";
export type { RlPrompt } from "./train/rl/rollouts.js";
export {
  type RlEvaluation,
  type RlProgress,
  type RlTimings,
  type TrainRlOptions,
  type TrainRlResult,
  trainRl,
} from "./train/rl/train-rl.js";
export {
  type DpoEvaluation,
  type TrainDpoOptions,
  type TrainDpoResult,
  trainDpo,
} from "./train/train-dpo.js";
export { type TrainSftOptions, type TrainSftResult, trainSft } from "./train/train-sft.js";
