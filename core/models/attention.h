#pragma once
// The one attention kernel of the UNet, ControlNet and VAE: softmax(q k^T * scale) v.
//
// LibTorch 2.x provides scaled_dot_product_attention (flash / memory-efficient kernels on CUDA,
// a fused kernel on CPU); LibTorch 1.13 (Debian's) does not, so the same product is computed
// explicitly. Either way the score matrix [B, heads, N, M] is what explodes with the image size
// (a 2048x2048 VAE decode has 65536 tokens: 16 GiB of fp32 scores), so the query rows are cut
// into slices whose scores fit a memory budget. Slicing is exact: each query row's softmax only
// needs its own row of scores.

#include <cstddef>
#include <cstdint>

#include <torch/torch.h>

namespace kiln::models {

struct AttentionSettings {
  // Upper bound on one slice's score matrix in bytes; 0 = never slice.
  std::size_t slice_bytes = std::size_t{512} << 20;
  // Use scaled_dot_product_attention when the LibTorch in use has it (2.x) and no upcast is needed.
  bool allow_fused = true;
  // bf16 attention on the CPU computed in fp32: LibTorch 2.11's CPU flash-attention kernel is no
  // faster in bf16 than in fp32 on AVX-512-BF16 (0.34 s against 0.33 s for a 4096-token call here,
  // 2.38 s against 2.02 s per UNet step), so fp32 costs nothing and keeps the scores exact.
  bool cpu_bf16_in_fp32 = true;
};

// Process-wide settings (the engine's memory policy), read on every call.
AttentionSettings attention_settings();
void set_attention_settings(const AttentionSettings& settings);

// q [B, H, N, D], k [B, H, M, D], v [B, H, M, Dv] -> [B, H, N, Dv] in v's dtype.
// upcast: the scores and softmax in fp32 (SD 2.x's upcast_attention; needed in fp16).
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                        bool upcast);

// How many query rows one slice may hold under settings.slice_bytes (>= 1; N when unsliced).
std::int64_t attention_slice_rows(std::int64_t batch_heads, std::int64_t n, std::int64_t m,
                                  std::size_t element_size, std::size_t slice_bytes);

}  // namespace kiln::models
