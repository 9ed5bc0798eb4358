// The weights a LoRA adapter may target, by their GGUF name (`blk.N.<target>.weight`): shared by the
// random adapter writer and the trainer, so both agree with what llama.cpp loads.

/** Projections an adapter may target, in a fixed order. */
export const loraTargets = [
  "attn_q",
  "attn_k",
  "attn_v",
  "attn_output",
  "ffn_gate",
  "ffn_up",
  "ffn_down",
] as const;
