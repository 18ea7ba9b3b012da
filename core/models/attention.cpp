#include "models/attention.h"

#include <algorithm>
#include <mutex>

namespace kiln::models {

namespace {

std::mutex settings_mutex;
AttentionSettings current_settings;

// The explicit product for one slice of query rows: [B, H, n, D] x [B, H, M, D] -> [B, H, n, Dv].
torch::Tensor attend_explicit(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                              bool upcast) {
  torch::Tensor scores = upcast ? torch::matmul(q.to(torch::kFloat), k.to(torch::kFloat).transpose(-1, -2))
                                : torch::matmul(q, k.transpose(-1, -2));
  scores.mul_(scale);                                        // [B, H, n, M]
  const torch::Tensor probs = torch::softmax(scores, -1).to(v.scalar_type());
  return torch::matmul(probs, v);
}

}  // namespace

AttentionSettings attention_settings() {
  std::lock_guard lock(settings_mutex);
  return current_settings;
}

void set_attention_settings(const AttentionSettings& settings) {
  std::lock_guard lock(settings_mutex);
  current_settings = settings;
}

std::int64_t attention_slice_rows(std::int64_t batch_heads, std::int64_t n, std::int64_t m,
                                  std::size_t element_size, std::size_t slice_bytes) {
  if (slice_bytes == 0 || n <= 0) return std::max<std::int64_t>(n, 1);
  const auto row_bytes = static_cast<double>(batch_heads) * static_cast<double>(m) * static_cast<double>(element_size);
  const auto rows = static_cast<std::int64_t>(static_cast<double>(slice_bytes) / std::max(row_bytes, 1.0));
  return std::clamp<std::int64_t>(rows, 1, n);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                        bool upcast) {
  const AttentionSettings settings = attention_settings();
  const bool needs_upcast = upcast && q.scalar_type() != torch::kFloat && q.scalar_type() != torch::kDouble;
  // The fused kernels never materialise the score matrix, so no slicing is needed.
  if (settings.allow_fused && settings.cpu_bf16_in_fp32 && q.is_cpu() && q.scalar_type() == torch::kBFloat16) {
    return at::scaled_dot_product_attention(q.to(torch::kFloat), k.to(torch::kFloat), v.to(torch::kFloat), {}, 0.0,
                                            false, scale)
        .to(v.scalar_type());
  }
  if (settings.allow_fused && !needs_upcast) {
    return at::scaled_dot_product_attention(q, k, v, {}, 0.0, false, scale);
  }
  const std::int64_t n = q.size(-2), m = k.size(-2);
  const std::int64_t batch_heads = q.numel() / std::max<std::int64_t>(q.size(-1) * n, 1);
  const std::size_t element = needs_upcast ? sizeof(float) : q.element_size();
  const std::int64_t rows = attention_slice_rows(batch_heads, n, m, element, settings.slice_bytes);
  if (rows >= n) return attend_explicit(q, k, v, scale, needs_upcast);
  std::vector<int64_t> out_shape = v.sizes().vec();
  out_shape[out_shape.size() - 2] = n;
  torch::Tensor out = torch::empty(out_shape, v.options());
  for (std::int64_t begin = 0; begin < n; begin += rows) {
    const std::int64_t len = std::min(rows, n - begin);
    out.narrow(-2, begin, len).copy_(attend_explicit(q.narrow(-2, begin, len), k, v, scale, needs_upcast));
  }
  return out;
}

}  // namespace kiln::models
